import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';

type Card = Record<string, unknown>;

const bodyOf = (response: { body?: unknown }): Card => (response.body as { value: Card }).value;

/**
 * French text carries a no-break space before « : ; ? ! » and inside « » (src/i18n/fr.ts); the
 * expectations below are written with ordinary spaces, so card texts are compared with U+00A0 read
 * as a space. test/i18n checks where the no-break spaces go.
 */
const plain = (text: string): string => text.replace(/\u00a0/g, ' ');
const textsOf = (card: unknown): string[] => cardTexts(card).map(plain);
const choicesOf = (card: unknown, id: string) => (findInput(card, id)?.choices ?? []) as { title: string; value: string }[];

function planIdOf(card: unknown): string {
  const match = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify(card));
  if (!match) throw new Error('no plan id on the card');
  return match[1]!;
}

const ADD_FORM = {
  displayName: 'Accueil',
  username: 'aa-accueil',
  domain: DEMO.domains.custom,
  accountType: 'autoAttendant',
  usageLocation: 'US',
  license: 'resourceAccount',
};

const MAIN = DEMO.accounts.mainLine;
const MAIN_NUMBER = DEMO.numbers.mainLine;

/** What the bot must say, locale by locale: English for en-US, French for fr-FR. */
const LOCALES = [
  {
    locale: 'en-US',
    help: [
      'Switchboard',
      'I manage the resource accounts behind your auto attendants and call queues.',
      'You are an admin: you can request changes.',
      'Commands',
      'add [username] [display name]: Add a resource account',
      'import: Add many accounts at once from CSV: paste it, or send the file in this chat',
      'list [words] [aa|cq] [licensed|unlicensed] [number|no-number]: List resource accounts, 10 at a time. Add words to search names, usernames and phone numbers ("list sales", "list +1 425 555 0100") and any of these filters: aa, cq, licensed, unlicensed, number, no-number (e.g. "list cq unlicensed"). To search for one of those words, put it in quotes: list "number".',
      'show <\u2060username>: Show one account',
      'edit <\u2060username>: Change the display name or type',
      'associate <\u2060username>: Use it with an auto attendant or call queue (add part of a name to narrow the list)',
      'license <\u2060username>: Give an unlicensed account the free Teams Phone Resource Account license',
      'number <\u2060username>: Give it a service number',
      'unassign <\u2060username>: Remove its phone number',
      'switch <\u2060username>: Switch Phone System → Teams Phone Resource Account license',
      'dissociate <\u2060username>: Remove it from its auto attendant or call queue',
      'delete <\u2060username>: Delete it (its number is unassigned first)',
      'history [username]: Who changed what and when: all accounts, or one',
      'export history [username]: The same history as a CSV file',
      'export accounts: Every resource account as CSV, in the import format',
      'doctor: Check every resource account for known problems, each with a fix',
      'help: This help',
      '[Add a resource account]',
      '[List resource accounts]',
    ],
    unknown: 'I did not understand "bonjour".',
    addForm: [
      'Add resource account',
      'Same fields as the Teams admin center, plus usage location and license.',
      'Display name',
      'Username',
      'Domain',
      'Resource account type',
      'Usage location',
      'License',
      '[Add]',
      '[Cancel]',
    ],
    placeholders: { displayName: 'e.g. Main line', username: 'e.g. aa-mainline', usageLocation: 'Type a country' },
    accountTypes: ['Auto attendant', 'Call queue'],
    licenses: ['Teams Phone Resource Account (14 of 25 free)', 'No license for now'],
    countries: { US: 'United States of America', DE: 'Germany', GB: 'United Kingdom', FR: 'France' },
    firstCountries: ['Afghanistan', 'Åland Islands', 'Albania'],
    refused: {
      banner: 'Please fix the fields below; nothing was created.',
      usageLocation: '"ZZ" is not a country. Choose the usage location from the list (ISO 3166 two-letter code).',
      username: 'The username cannot end with a dot (no "." right before "@").',
    },
    created: [
      'Resource account created',
      'Accueil',
      'Username: aa-accueil@contoso.com',
      'Type: Auto attendant',
      'Usage location: United States of America (US)',
      'License: Teams Phone Resource Account',
      'Phone number: None',
      'Used by: None',
      'Next step: give it a service number ("number aa-accueil@contoso.com") or use it with an auto attendant or call queue.',
      '[Assign number]',
      '[Use with AA / CQ]',
      '[Edit]',
      '[Delete]',
      '[All accounts]',
    ],
    deletePlan: [
      `Delete ${MAIN.upn}`,
      'Nothing has changed yet. Confirm to run these steps.',
      `Username: ${MAIN.upn}`,
      'Type: Auto attendant',
      'License: Teams Phone Resource Account',
      `Phone number: ${MAIN_NUMBER}`,
      'Used by: Main line',
      'Requested by: Ada Admin',
      'Callers who dial +14255550100 will no longer reach Main line, which will no longer use this resource account.',
      'Steps',
      `○ 1. Unassign ${MAIN_NUMBER} (Calling Plan) and wait until it is really free`,
      '○ 2. Remove it from Main line',
      '○ 3. Delete the account (recoverable for 30 days in Microsoft 365)',
      'The same steps by hand:',
      `Remove-CsPhoneNumberAssignment -Identity '${MAIN.upn}' -TelephoneNumber '${MAIN_NUMBER}' -NumberType CallingPlan`,
      `Remove-CsOnlineApplicationInstanceAssociation -Identities ${MAIN.id}`,
      `DELETE https://graph.microsoft.com/v1.0/users/${MAIN.id}`,
      '[Confirm]',
      '[Cancel]',
    ],
    requesterHead: [`Delete ${MAIN.upn}`, 'Waiting for an approver. Expires 2026-12-01 10:00 UTC.', 'Sent for approval to Bob Approver.'],
    requesterButtons: ['[Refresh]', '[Cancel request]'],
    approval: [
      `Approval needed: Delete ${MAIN.upn}`,
      'Waiting for an approver. Expires 2026-12-01 10:00 UTC.',
      `Username: ${MAIN.upn}`,
      'Requested by: Ada Admin',
      'Requested on: 2026-11-28 10:00 UTC',
      'Callers who dial +14255550100 will no longer reach Main line, which will no longer use this resource account.',
      'Steps',
      `1. Unassign ${MAIN_NUMBER} (Calling Plan) and wait until it is really free`,
      '2. Remove it from Main line',
      '3. Delete the account (recoverable for 30 days in Microsoft 365)',
      'Reason (required to reject)',
      '[Approve]',
      '[Reject]',
    ],
    rejected: `Rejected by Bob Approver on 2026-11-28 10:00 UTC: "Numéro encore publié". Nothing was changed.`,
    toldRejected: [`Your request: Delete ${MAIN.upn}`, `Bob Approver rejected your request: Delete ${MAIN.upn}. Reason: "Numéro encore publié".`],
    numberSearch: [
      'Calling Plan number for cq-support-fr@contoso.com',
      'Only free service numbers are listed. The number’s country must match the usage location: France (FR).',
      'Country',
      'Number starts with',
      '[Search]',
      'Free service numbers 1–5 of 5',
      'Pick a number',
      '[Assign selected]',
      '[Change type]',
      '[Cancel]',
    ],
    tollFree: 'toll-free',
    prefixRefused: '"33x" is not a number prefix: type digits only (the "+" is optional), e.g. 1425.',
    prefixLabel: 'Number starts with',
    list: {
      head: ['Resource accounts', 'Type', 'License', 'Phone number', 'Search', '[Apply]', '1–10 of 14', 'Name', 'Type', 'License', 'Number'],
      aa: 'Auto attendant',
      cq: 'Call queue',
      resourceAccount: 'Teams Phone Resource Account',
      phoneSystem: 'Phone System',
      next: '[Next]',
      unlicensed: 'Unlicensed',
      none: 'None',
      filters: {
        accountType: ['All types', 'Auto attendant', 'Call queue'],
        license: ['Licensed or not', 'Licensed', 'Unlicensed'],
        number: ['With or without', 'With a number', 'Without a number'],
      },
      searchPlaceholder: 'Part of a name, username or phone number',
    },
    fault: ['Something went wrong', /^An internal error stopped this request; nothing more was changed\. Quote this id to your administrator: [0-9a-f-]{36}$/],
  },
  {
    locale: 'fr-FR',
    help: [
      'Switchboard',
      'Je gère les comptes de ressources de vos standards automatiques et files d’attente d’appels.',
      'Vous êtes administrateur : vous pouvez demander des modifications.',
      'Commandes',
      'add [nom d’utilisateur] [nom d’affichage]: Ajouter un compte de ressources',
      'import: Ajouter de nombreux comptes d’un coup depuis un CSV : collez-le, ou envoyez le fichier dans cette conversation',
      'list [mots] [aa|cq] [licensed|unlicensed] [number|no-number]: Affiche les comptes de ressources, 10 par page. Ajoutez des mots pour chercher dans les noms, noms d’utilisateur et numéros de téléphone (« list accueil », « list +33 1 70 00 01 00 ») et l’un de ces filtres : aa, cq, licensed, unlicensed, number, no-number (p. ex. « list cq unlicensed »). Pour chercher l’un de ces mots, mettez-le entre guillemets droits : list "number".',
      'show <\u2060nom d’utilisateur>: Afficher un compte',
      'edit <\u2060nom d’utilisateur>: Modifier le nom d’affichage ou le type',
      'associate <\u2060nom d’utilisateur>: L’utiliser avec un standard automatique ou une file d’attente d’appels (ajoutez une partie d’un nom pour réduire la liste)',
      'license <\u2060nom d’utilisateur>: Donner à un compte sans licence la licence gratuite Compte de ressources Teams Phone',
      'number <\u2060nom d’utilisateur>: Lui attribuer un numéro de service',
      'unassign <\u2060nom d’utilisateur>: Retirer son numéro de téléphone',
      'switch <\u2060nom d’utilisateur>: Passer de la licence Système téléphonique à la licence Compte de ressources Teams Phone',
      'dissociate <\u2060nom d’utilisateur>: Le retirer de son standard automatique ou de sa file d’attente d’appels',
      'delete <\u2060nom d’utilisateur>: Le supprimer (son numéro est d’abord retiré)',
      'history [nom d’utilisateur]: Qui a modifié quoi et quand : tous les comptes, ou un seul',
      'export history [nom d’utilisateur]: Le même historique, en fichier CSV',
      'export accounts: Tous les comptes de ressources en CSV, au format de l’import',
      'doctor: Vérifier chaque compte de ressources contre les problèmes connus, chacun avec sa correction',
      'help: Cette aide',
      '[Ajouter un compte de ressources]',
      '[Afficher les comptes de ressources]',
    ],
    unknown: 'Je n’ai pas compris « bonjour ».',
    addForm: [
      'Ajouter un compte de ressources',
      'Les mêmes champs que dans le Centre d’administration Teams, plus l’emplacement d’utilisation et la licence.',
      'Nom d’affichage',
      'Nom d’utilisateur',
      'Domaine',
      'Type de compte de ressources',
      'Emplacement d’utilisation',
      'Licence',
      '[Ajouter]',
      '[Annuler]',
    ],
    placeholders: { displayName: 'p. ex. Standard principal', username: 'p. ex. aa-standard', usageLocation: 'Saisissez un pays' },
    accountTypes: ['Standard automatique', 'File d’attente d’appels'],
    licenses: ['Compte de ressources Teams Phone (14 sur 25 disponibles)', 'Pas de licence pour l’instant'],
    countries: { US: "États-Unis d'Amérique", DE: 'Allemagne', GB: 'Royaume-Uni', FR: 'France' },
    firstCountries: ['Afghanistan', 'Afrique du Sud', 'Åland'],
    refused: {
      banner: 'Corrigez les champs ci-dessous ; rien n’a été créé.',
      usageLocation: '« ZZ » n’est pas un pays. Choisissez l’emplacement d’utilisation dans la liste (code ISO 3166 à deux lettres).',
      username: 'Le nom d’utilisateur ne peut pas se terminer par un point (pas de « . » juste avant « @ »).',
    },
    created: [
      'Compte de ressources créé',
      'Accueil',
      'Nom d’utilisateur: aa-accueil@contoso.com',
      'Type: Standard automatique',
      "Emplacement d’utilisation: États-Unis d'Amérique (US)",
      'Licence: Compte de ressources Teams Phone',
      'Numéro de téléphone: Aucun',
      'Utilisé par: Aucun',
      'Étape suivante : attribuez-lui un numéro de service (« number aa-accueil@contoso.com ») ou utilisez-le avec un standard automatique ou une file d’attente d’appels.',
      '[Attribuer un numéro]',
      '[Associer à un standard ou une file]',
      '[Modifier]',
      '[Supprimer]',
      '[Tous les comptes]',
    ],
    deletePlan: [
      `Supprimer ${MAIN.upn}`,
      'Rien n’a encore été modifié. Confirmez pour exécuter ces étapes.',
      `Nom d’utilisateur: ${MAIN.upn}`,
      'Type: Standard automatique',
      'Licence: Compte de ressources Teams Phone',
      `Numéro de téléphone: ${MAIN_NUMBER}`,
      'Utilisé par: Main line',
      'Demandé par: Ada Admin',
      'Les appelants qui composent le +14255550100 n’atteindront plus Main line, qui n’utilisera plus ce compte de ressources.',
      'Étapes',
      `○ 1. Retirer ${MAIN_NUMBER} (Forfait d’appels) et attendre qu’il soit réellement libre`,
      '○ 2. Le retirer de Main line',
      '○ 3. Supprimer le compte (récupérable pendant 30 jours dans Microsoft 365)',
      'Les mêmes étapes à la main :',
      `Remove-CsPhoneNumberAssignment -Identity '${MAIN.upn}' -TelephoneNumber '${MAIN_NUMBER}' -NumberType CallingPlan`,
      `Remove-CsOnlineApplicationInstanceAssociation -Identities ${MAIN.id}`,
      `DELETE https://graph.microsoft.com/v1.0/users/${MAIN.id}`,
      '[Confirmer]',
      '[Annuler]',
    ],
    requesterHead: [`Supprimer ${MAIN.upn}`, 'En attente d’un approbateur. Expire le 2026-12-01 10:00 UTC.', 'Envoyé pour approbation à Bob Approver.'],
    requesterButtons: ['[Actualiser]', '[Annuler la demande]'],
    approval: [
      `Approbation requise : Supprimer ${MAIN.upn}`,
      'En attente d’un approbateur. Expire le 2026-12-01 10:00 UTC.',
      `Nom d’utilisateur: ${MAIN.upn}`,
      'Demandé par: Ada Admin',
      'Demandé le: 2026-11-28 10:00 UTC',
      'Les appelants qui composent le +14255550100 n’atteindront plus Main line, qui n’utilisera plus ce compte de ressources.',
      'Étapes',
      `1. Retirer ${MAIN_NUMBER} (Forfait d’appels) et attendre qu’il soit réellement libre`,
      '2. Le retirer de Main line',
      '3. Supprimer le compte (récupérable pendant 30 jours dans Microsoft 365)',
      'Motif (obligatoire pour refuser)',
      '[Approuver]',
      '[Refuser]',
    ],
    rejected: 'Refusé par Bob Approver le 2026-11-28 10:00 UTC : « Numéro encore publié ». Rien n’a été modifié.',
    toldRejected: [`Votre demande : Supprimer ${MAIN.upn}`, `Bob Approver a refusé votre demande : Supprimer ${MAIN.upn}. Motif : « Numéro encore publié ».`],
    numberSearch: [
      'Numéro de service Forfait d’appels pour cq-support-fr@contoso.com',
      'Seuls les numéros de service libres sont proposés. Le pays du numéro doit correspondre à l’emplacement d’utilisation : France (FR).',
      'Pays',
      'Le numéro commence par',
      '[Rechercher]',
      'Numéros de service libres 1–5 sur 5',
      'Choisissez un numéro',
      '[Attribuer le numéro choisi]',
      '[Changer de type]',
      '[Annuler]',
    ],
    tollFree: 'gratuit',
    prefixRefused: '« 33x » n’est pas un début de numéro : saisissez uniquement des chiffres (le « + » est facultatif), p. ex. 331.',
    prefixLabel: 'Le numéro commence par',
    list: {
      head: ['Comptes de ressources', 'Type', 'Licence', 'Numéro de téléphone', 'Rechercher', '[Appliquer]', '1–10 sur 14', 'Nom', 'Type', 'Licence', 'Numéro'],
      aa: 'Standard automatique',
      cq: 'File d’attente d’appels',
      resourceAccount: 'Compte de ressources Teams Phone',
      phoneSystem: 'Système téléphonique',
      next: '[Suivant]',
      unlicensed: 'Sans licence',
      none: 'Aucun',
      filters: {
        accountType: ['Tous les types', 'Standard automatique', 'File d’attente d’appels'],
        license: ['Avec ou sans licence', 'Avec licence', 'Sans licence'],
        number: ['Avec ou sans', 'Avec un numéro', 'Sans numéro'],
      },
      searchPlaceholder: 'Partie d’un nom, d’un nom d’utilisateur ou d’un numéro',
    },
    fault: [
      'Un problème est survenu',
      /^Une erreur interne a interrompu cette demande ; rien d’autre n’a été modifié\. Communiquez cet identifiant à votre administrateur : [0-9a-f-]{36}$/,
    ],
  },
] as const;

describe.each(LOCALES)('the bot answers in the activity’s locale ($locale)', (expected) => {
  const { locale } = expected;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    const at = Date.parse('2026-11-28T10:00:00.000Z');
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' }, { now: () => new Date(at) });
    sut = new Conversation(app);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await dir.remove();
  });

  it('help card: every command, its syntax and the caller’s role', async () => {
    expect(textsOf(await sut.card(message('help', { locale })))).toEqual(expected.help);
  });

  it('help card for an unknown command says what it did not understand', async () => {
    const texts = textsOf(await sut.card(message('bonjour', { locale })));
    expect(texts.slice(0, 3)).toEqual([expected.help[0], expected.help[1], expected.unknown]);
  });

  it('add form: labels, placeholders, account types, license seats and country names', async () => {
    const card = await sut.card(message('add', { locale }));
    expect(textsOf(card)).toEqual(expected.addForm);
    for (const [id, placeholder] of Object.entries(expected.placeholders)) expect(findInput(card, id)?.placeholder).toBe(placeholder);
    expect(choicesOf(card, 'accountType').map((c) => c.title)).toEqual(expected.accountTypes);
    expect(choicesOf(card, 'license').map((c) => c.title)).toEqual(expected.licenses);
    const countries = choicesOf(card, 'usageLocation');
    for (const [code, name] of Object.entries(expected.countries)) expect(countries).toContainEqual({ title: name, value: code });
    // Sorted by name in the viewer's language.
    expect(countries.slice(0, 3).map((c) => c.title)).toEqual(expected.firstCountries);
  });

  it('a refusal comes back next to its field, in the viewer’s language', async () => {
    const card = bodyOf(await sut.invoke(execute('addAccount', { ...ADD_FORM, username: 'aa-accueil.', usageLocation: 'ZZ' }, { locale })));
    const [title, intro, displayName, username, domain, accountType, usageLocation, license, add, cancel] = expected.addForm;
    // The username's message sits under the username/domain row, the usage location's under its list.
    expect(textsOf(card)).toEqual([
      title,
      intro,
      expected.refused.banner,
      displayName,
      username,
      domain,
      expected.refused.username,
      accountType,
      usageLocation,
      expected.refused.usageLocation,
      license,
      add,
      cancel,
    ]);
    expect(findInput(card, 'username')?.value).toBe('aa-accueil.');
    expect(findInput(card, 'usageLocation')?.value).toBe('ZZ');
  });

  it('created-account card', async () => {
    expect(textsOf(bodyOf(await sut.invoke(execute('addAccount', ADD_FORM, { locale }))))).toEqual(expected.created);
  });

  it('plan card: "delete" lists the steps with Confirm / Cancel', async () => {
    expect(textsOf(await sut.card(message(`delete ${MAIN.upn}`, { locale })))).toEqual(expected.deletePlan);
  });

  it('approval card for the approver, the requester’s view, and the rejection told back', async () => {
    // Both have talked to the bot in this locale, so each is reached in it.
    await sut.send(message('help', { from: APPROVER, locale }));
    const planId = planIdOf(await sut.card(message(`delete ${MAIN.upn}`, { locale })));
    const sentBefore = sut.adapter.later.length;

    const requester = textsOf(bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }, { locale }), replyToId: 'plan-card' })));
    expect(requester.slice(0, 3)).toEqual(expected.requesterHead);
    expect(requester.filter((t) => t.startsWith('['))).toEqual(expected.requesterButtons);

    const delivered = sut.adapter.later.slice(sentBefore);
    expect(delivered.map((a) => a.conversation?.id)).toEqual([`a:personal-${APPROVER.id}`]);
    expect(textsOf(delivered[0]!.attachments![0]!.content)).toEqual(expected.approval);

    const told = sut.adapter.later.length;
    const rejected = bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason: 'Numéro encore publié' }, { from: APPROVER, locale })));
    expect(textsOf(rejected)[1]).toBe(expected.rejected);
    await sut.settled();
    const toRequester = sut.adapter.later.slice(told).filter((a) => a.conversation?.id === 'a:personal-chat');
    expect(toRequester.map((a) => textsOf(a.attachments![0]!.content))).toEqual([expected.toldRejected]);
  });

  it('number search card: filters, summary, toll-free label, and a refused prefix next to its field', async () => {
    const accountId = DEMO.accounts.supportFr.id;
    const card = bodyOf(await sut.invoke(execute('chooseNumberType', { accountId, numberType: 'callingPlan' }, { locale })));
    expect(textsOf(card)).toEqual(expected.numberSearch);
    expect(findInput(card, 'country')?.value).toBe('FR');
    expect(choicesOf(card, 'country')).toContainEqual({ title: expected.countries.US, value: 'US' });
    expect(choicesOf(card, 'telephoneNumber')).toEqual([
      ...DEMO.numbers.frToll.map((n) => ({ title: `${n} · Paris`, value: n })),
      { title: `${DEMO.numbers.frTollFree} · Paris · ${expected.tollFree}`, value: DEMO.numbers.frTollFree },
    ]);

    const refused = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'FR', prefix: '33x' }, { locale })));
    const texts = textsOf(refused);
    expect(texts[texts.indexOf(expected.prefixLabel) + 1]).toBe(expected.prefixRefused);
  });

  it('list card: headers, summary, rows and filter choices', async () => {
    const card = await sut.card(message('list', { locale }));
    const { list } = expected;
    expect(textsOf(card)).toEqual([
      ...list.head,
      // The first page of ten, in name order (the doctor's examples among them, seed.ts).
      ...['Escalations', 'cq-escalations@contoso.com', list.aa, list.resourceAccount, list.none],
      ...['Events', 'cq-events@contoso.com', list.cq, list.resourceAccount, list.none],
      ...['Helpdesk', 'cq-helpdesk@contoso.onmicrosoft.com', list.cq, list.unlicensed, list.none],
      ...['Holidays', 'aa-holidays@contoso.com', list.aa, list.unlicensed, list.none],
      ...['Invoices', 'cq-invoices@contoso.com', list.cq, list.resourceAccount, list.none],
      ...['Kiosk', 'aa-kiosk@contoso.com', list.aa, list.resourceAccount, list.none],
      ...['Lyon office', 'aa-lyon@contoso.com', list.aa, list.resourceAccount, DEMO.numbers.lyon],
      ...['Main line', MAIN.upn, list.aa, list.resourceAccount, MAIN_NUMBER],
      ...['Orders line', 'aa-orders@contoso.com', list.aa, list.unlicensed, DEMO.numbers.orders],
      ...['Paris office', 'aa-paris@contoso.com', list.aa, list.unlicensed, list.none],
      list.next,
    ]);
    for (const [id, titles] of Object.entries(list.filters)) expect(choicesOf(card, id).map((c) => c.title)).toEqual(titles);
    expect(findInput(card, 'text')?.placeholder).toBe(list.searchPlaceholder);
  });

  it('internal-fault card: a correlation id and nothing else', async () => {
    jest.spyOn(app.directory, 'getTenantFacts').mockRejectedValue(new Error('ECONNRESET secret-host:443'));
    const texts = textsOf(bodyOf(await sut.invoke(execute('openAddForm', {}, { locale }))));
    expect(texts).toHaveLength(2);
    expect(texts[0]).toBe(expected.fault[0]);
    expect(texts[1]).toMatch(expected.fault[1]);
  });
});

describe('French typography and locale choice', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    sut = new Conversation(app);
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('puts a no-break space before a colon and inside « »', async () => {
    const texts = cardTexts(await sut.card(message('bonjour', { locale: 'fr-FR' })));
    expect(texts).toContain('Je n’ai pas compris «\u00a0bonjour\u00a0».');
    expect(texts).toContain('Vous êtes administrateur\u00a0: vous pouvez demander des modifications.');
  });

  it.each([
    ['fr-FR', 'Commandes'],
    ['fr-CA', 'Commandes'],
    ['fr', 'Commandes'],
    ['en-US', 'Commands'],
    ['en-GB', 'Commands'],
    ['de-DE', 'Commands'],
  ])('%s gets %s', async (locale, heading) => {
    expect(cardTexts(await sut.card(message('help', { locale })))).toContain(heading);
  });

  it('follows each activity’s locale, even for the same user', async () => {
    const french = cardTexts(await sut.card(message('show aa-paris', { locale: 'fr-FR' })));
    const english = cardTexts(await sut.card(message('show aa-paris', { from: ADMIN, locale: 'en-US' })));
    expect(french).toContain('Emplacement d’utilisation: France (FR)');
    expect(english).toContain('Usage location: France (FR)');
  });
});
