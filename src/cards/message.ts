import { renderCard, type CardJson } from './render';

export type Tone = 'default' | 'good' | 'attention' | 'warning';

/** A short card for confirmations, refusals and faults. */
export function messageCard(title: string, text: string, tone: Tone = 'default', detail = ''): CardJson {
  return renderCard('message', { title, text, tone, detail });
}
