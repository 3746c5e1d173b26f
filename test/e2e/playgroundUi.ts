import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type WebSocket } from 'playwright-core';

/**
 * Drives the Microsoft 365 Agents Playground's web UI as a person would: types in the composer, reads
 * the rendered Adaptive Cards, fills their inputs and clicks their buttons. Selectors and behaviour
 * are those measured in shared/reference/playground.md (Playground 0.2.28).
 *
 * It never sleeps for a fixed time: a turn is over when the Playground's log stream reports the
 * activity it sent to the bot (that entry is pushed after the bot answered, with its HTTP status),
 * and a card has arrived when the conversation stream says so and the DOM shows it.
 */

// Which Chromium (Debian's, else the one inside the npm package @sparticuz/chromium), its flags and
// the launch live in one place for every script and test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chromiumHelper = require('../../scripts/chromium.js') as { CHROMIUM_PATH: string; launchBrowser(): Promise<Browser> };
const COMPOSER = '[data-lexical-editor="true"][role="textbox"]';
const SEND = 'button[aria-label="Send Message"]';
/** Top-level cards only: a card nested in a card (e.g. a ShowCard) is part of its parent. */
const CARD = '.ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)';

const PLAYGROUND = 'Microsoft 365 Agents Playground';
const BOT_APP = 'User Application';

/** One entry of the log panel (/_ws/log/stream): an HTTP exchange between Playground and bot. */
export interface LogEntry {
  activityName?: string;
  from?: string;
  to?: string;
  messageId?: string;
  displayText?: string;
  request?: { body?: { type?: string; text?: string; value?: { action?: { title?: string; verb?: string } } } };
  response?: { statusCode?: number; body?: { id?: string; value?: unknown } };
}

/** One event of /_ws_conversation/v1/conversations/stream. */
export interface ConversationEvent {
  action: 'createMessage' | 'updateMessage' | 'typing' | string;
  message?: { messageId?: string; from?: { id?: string }; attachments?: unknown[] };
}

/**
 * Chromium (Debian's if installed, else the bundled one; never a downloaded one; SWITCHBOARD_CHROMIUM
 * forces either) with a fresh profile: Playwright creates a new temporary user-data-dir per launch.
 */
export function launchChromium(): Promise<Browser> {
  return chromiumHelper.launchBrowser();
}

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

export class PlaygroundUi {
  /** Log panel entries, in the order the Playground pushed them. */
  readonly log: LogEntry[] = [];
  /** Conversation events; every createMessage from the bot is one card in the chat, in this order. */
  readonly events: ConversationEvent[] = [];

  private constructor(
    readonly name: string,
    readonly page: Page,
    private readonly context: BrowserContext,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Opens the Playground page and waits for its welcome: the UI's connection makes the Playground send
   * conversationUpdate (and installationUpdate), which Switchboard answers with its help card.
   */
  static async open(browser: Browser, name: string, url: string, timeoutMs = 30_000): Promise<PlaygroundUi> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const ui = new PlaygroundUi(name, page, context, timeoutMs);
    page.on('websocket', (ws) => ui.watch(ws));
    await page.goto(url);
    await page.locator(COMPOSER).waitFor({ timeout: timeoutMs });
    await ui.waitForLog((e) => ui.toBot(e) && e.activityName === 'conversationUpdate', 0, 'the conversationUpdate of a new chat');
    // The welcome goes out through the outbox after the conversationUpdate was answered (src/bot/replies.ts):
    // on a loaded machine it comes a while after, so it is waited for, not looked up.
    const welcome = await ui.waitForLog(
      (e) => e.from === BOT_APP && e.activityName === 'message' && e.response?.statusCode === 201,
      0,
      "the bot's welcome of the new chat (is the Playground's identity accepted?)",
    );
    if (!welcome.response?.body?.id) throw new Error(`${name}: the bot's welcome has no message id`);
    await ui.cardOfMessage(welcome.response.body.id);
    return ui;
  }

  private watch(ws: WebSocket): void {
    const url = ws.url();
    ws.on('framereceived', ({ payload }) => {
      let data: { logAction?: string; log?: LogEntry } & ConversationEvent;
      try {
        data = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        return;
      }
      if (url.endsWith('/_ws/log/stream') && data.logAction === 'appendLog' && data.log) this.log.push(data.log);
      else if (url.includes('/conversations/stream') && data.action) this.events.push(data);
    });
  }

  close(): Promise<void> {
    return this.context.close();
  }

  /** An activity the Playground sent to the bot; its entry arrives once the bot answered. */
  toBot(entry: LogEntry): boolean {
    return entry.from === PLAYGROUND && entry.to === BOT_APP;
  }

  /** Messages the bot created in this chat, in order: one card each (Switchboard answers only with cards). */
  botMessages(): ConversationEvent[] {
    return this.events.filter((e) => e.action === 'createMessage' && (e.message?.attachments?.length ?? 0) > 0);
  }

  cards(): Locator {
    return this.page.locator(CARD);
  }

  /** The card of the bot's nth message (0 = the welcome card). */
  card(index: number): Locator {
    return this.cards().nth(index);
  }

  async waitFor<T>(find: () => T | undefined, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
      // Frames are delivered through Playwright's event loop: give it a turn.
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  waitForLog(match: (entry: LogEntry) => boolean, since: number, what: string): Promise<LogEntry> {
    return this.waitFor(() => this.log.slice(since).find(match), what);
  }

  async waitForCardCount(count: number): Promise<void> {
    await this.page.waitForFunction(([selector, n]) => document.querySelectorAll(selector as string).length >= (n as number), [CARD, count] as const, {
      timeout: this.timeoutMs,
    });
  }

  /** Types a message in the composer, sends it, waits until the bot answered, and returns the answer's card. */
  async send(text: string): Promise<Locator> {
    const since = this.log.length;
    await this.page.locator(COMPOSER).click();
    await this.page.keyboard.type(text);
    await this.page.locator(SEND).click();
    const turn = await this.waitForLog((e) => this.toBot(e) && e.activityName === 'message' && e.displayText === text, since, `the bot's answer to "${text}"`);
    if (turn.response?.statusCode !== 200) throw new Error(`${this.name}: the bot answered "${text}" with HTTP ${turn.response?.statusCode}`);
    // The reply is posted to the Playground's connector after the turn's answer, from the outbox
    // (src/bot/replies.ts): 201 with its message id.
    const reply = await this.waitForLog((e) => e.from === BOT_APP && e.activityName === 'message' && e.response?.statusCode === 201, since, `the bot's reply to "${text}"`);
    const replyId = reply.response?.body?.id;
    if (!replyId) throw new Error(`${this.name}: the bot sent no message in answer to "${text}"`);
    return this.cardOfMessage(replyId);
  }

  /** The card of one bot message, once the conversation stream delivered it and the DOM shows it. */
  async cardOfMessage(messageId: string): Promise<Locator> {
    const index = await this.waitFor(() => {
      const i = this.botMessages().findIndex((e) => e.message?.messageId === messageId);
      return i >= 0 ? i : undefined;
    }, `message ${messageId} in the conversation stream`);
    await this.waitForCardCount(index + 1);
    return this.card(index);
  }

  /** Waits for the next message the bot sends on its own (a proactive message) and returns its card. */
  async nextProactiveCard(since: number, what: string): Promise<Locator> {
    const created = await this.waitFor(() => this.events.slice(since).find((e) => e.action === 'createMessage' && e.message?.messageId), what);
    return this.cardOfMessage(created.message!.messageId!);
  }

  /**
   * Clicks an Action.Execute button of a card and waits until the bot answered the invoke. The
   * Playground then replaces the card in place with the answer.
   */
  async click(card: Locator, title: string): Promise<LogEntry> {
    const since = this.log.length;
    await card.locator('.ac-actionSet').getByRole('button', { name: title, exact: true }).click({ timeout: this.timeoutMs });
    const turn = await this.waitForLog(
      (e) => this.toBot(e) && e.activityName === 'invoke' && e.request?.body?.value?.action?.title === title,
      since,
      `the bot's answer to a click on "${title}"`,
    );
    if (turn.response?.statusCode !== 200) throw new Error(`${this.name}: the bot answered "${title}" with HTTP ${turn.response?.statusCode}`);
    return turn;
  }

  /**
   * Fills a card's inputs, then clicks. Any message that arrives re-renders every card and loses typed
   * values, so the inputs are filled right before the click, and filled again if a message came in
   * while they were being filled.
   */
  async fillAndClick(card: Locator, fill: () => Promise<void>, title: string): Promise<LogEntry> {
    for (let attempt = 1; ; attempt += 1) {
      const seen = this.events.length;
      await fill();
      if (this.events.length === seen || attempt === 3) break;
    }
    return this.click(card, title);
  }

  /** Waits until the card's visible text matches, and returns that text (whitespace collapsed). */
  async waitForText(card: Locator, pattern: RegExp): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    let text = '';
    for (;;) {
      text = normalize(await card.innerText({ timeout: this.timeoutMs }));
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`${this.name}: the card never matched ${pattern}; it shows: ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A card's FactSet(s) as title → value. */
  async facts(card: Locator): Promise<Record<string, string>> {
    return card.evaluate((element) => {
      const titles = Array.from(element.querySelectorAll('.ac-fact-title')).map((e) => (e as HTMLElement).innerText.trim());
      const values = Array.from(element.querySelectorAll('.ac-fact-value')).map((e) => (e as HTMLElement).innerText.trim());
      return Object.fromEntries(titles.map((t, i) => [t, values[i] ?? '']));
    });
  }

  /** Picks an option of a compact or filtered ChoiceSet (a combobox), typing to filter first if asked. */
  async choose(card: Locator, label: string, option: string, typeFirst?: string): Promise<void> {
    const box = card.getByRole('combobox', { name: label });
    await box.click();
    if (typeFirst) {
      await box.fill('');
      await box.pressSequentially(typeFirst);
    }
    await this.page.getByRole('listbox').getByRole('option', { name: option, exact: true }).click();
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: true });
  }
}
