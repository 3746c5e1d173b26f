import type { Command } from '../scope';
import { add } from './add';
import { associateCommand } from './associate';
import { deleteCommand } from './delete';
import { dissociateCommand } from './dissociate';
import { editCommand } from './edit';
import { exportCommand } from './export';
import { help } from './help';
import { historyCommand } from './history';
import { list } from './list';
import { numberCommand } from './number';
import { show } from './show';
import { licenseCommand } from './license';
import { switchCommand } from './switch';
import { unassignCommand } from './unassign';
import { importCommand } from './import';
import { doctorCommand } from './doctor';

/** Every text command, registered in one list. */
const registry: Command[] = [help, add, list, show, deleteCommand, unassignCommand, switchCommand, licenseCommand, dissociateCommand, editCommand, associateCommand, numberCommand, historyCommand, exportCommand, importCommand, doctorCommand];

export const commands: ReadonlyMap<string, Command> = new Map(registry.map((c) => [c.name, c]));

/** "Show  aa-main" → { name: 'show', args: 'aa-main' }; Teams may wrap @mentions and add whitespace. */
export function parseCommand(text: string): { name: string; args: string } {
  const trimmed = text.replace(/<at>[^<]*<\/at>/g, ' ').trim();
  const [first = '', ...rest] = trimmed.split(/\s+/);
  return { name: first.toLowerCase(), args: rest.join(' ') };
}
