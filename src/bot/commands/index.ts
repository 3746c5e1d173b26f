import type { Command } from '../scope';
import { add } from './add';
import { help } from './help';
import { list } from './list';
import { show } from './show';

/** Every text command, registered in one list. */
const registry: Command[] = [help, add, list, show];

export const commands: ReadonlyMap<string, Command> = new Map(registry.map((c) => [c.name, c]));

/** "Show  aa-main" → { name: 'show', args: 'aa-main' }; Teams may wrap @mentions and add whitespace. */
export function parseCommand(text: string): { name: string; args: string } {
  const trimmed = text.replace(/<at>[^<]*<\/at>/g, ' ').trim();
  const [first = '', ...rest] = trimmed.split(/\s+/);
  return { name: first.toLowerCase(), args: rest.join(' ') };
}
