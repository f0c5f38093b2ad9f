/**
 * Writes examples/customer-survey.xlsx: a realistic export of 400 responses to an online grocer's survey,
 * with the open question in column E (header "E2"), a title row and a question row above the header, and
 * the usual mess: empty answers, placeholders, the same answer typed twice in other case and spacing,
 * long answers touching two topics, a few in other languages. Deterministic, so the committed file can be
 * regenerated: npx tsx scripts/make-example.ts
 */
import ExcelJS from 'exceljs';

let seed = 20261127;
const random = () => {
  seed = (seed * 1664525 + 1013904223) % 2 ** 32;
  return seed / 2 ** 32;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Topics with what people say about them, good and bad. */
const topics = {
  price: {
    good: [
      'prices are fair',
      'good value for money',
      'cheaper than the supermarket',
      'the weekly discount on basics',
      'affordable even for a family of five',
    ],
    bad: [
      'too expensive',
      'prices went up again',
      'the cost of delivery is silly',
      'pricey for what you get',
      'not good value for money any more',
    ],
  },
  delivery: {
    good: [
      'delivery is always on time',
      'the courier is friendly',
      'the parcel arrived within the hour',
      'delivered right to my door',
      'shipping is quick',
    ],
    bad: [
      'my order arrived two days late',
      'the courier left the package in the rain',
      'delivery slots are always full',
      'late delivery again',
      'the parcel went to the wrong address',
    ],
  },
  quality: {
    good: [
      'the fruit is always fresh',
      'quality of the meat is excellent',
      'the products are durable',
      'everything works well',
      'fresh bread every time',
    ],
    bad: [
      'the bread was stale',
      'two eggs were broken',
      'the blender was defective',
      'vegetables arrived damaged',
      'the quality has gone down',
    ],
  },
  service: {
    good: [
      'customer service sorted out my refund in a day',
      'the support agent was very helpful',
      'staff on the phone are kind',
      'returns are easy',
      'the refund came back fast',
    ],
    bad: [
      'customer service never answers',
      'staff were rude when I asked for a return',
      'I waited three weeks for a refund',
      'the support agent hung up on me',
      'returns are a nightmare',
    ],
  },
  app: {
    good: [
      'the app is easy to use',
      'checkout takes a minute',
      'the website is clear',
      'search on the app finds everything',
      'ordering online is simple',
    ],
    bad: [
      'the app crashes at checkout',
      'I cannot login on the website',
      'search never finds what I type',
      'the website is slow',
      'the app logs me out all the time',
    ],
  },
  range: {
    good: [
      'great selection of organic options',
      'a huge range of brands',
      'lots of choice for vegans',
      'a good variety of local products',
      'the range keeps growing',
    ],
    bad: [
      'things I want are always out of stock',
      'the selection is small',
      'not enough choice of brands',
      'no organic options for baby food',
      'the range got smaller',
    ],
  },
} as const;

const openers = ['', '', '', 'Honestly, ', 'Mainly because ', 'I would say ', 'Well, ', 'Simply: '];
const closers = [
  '',
  '',
  '',
  '.',
  '!',
  ' and that matters to me.',
  ', every single time.',
  ' for months now.',
  ' :)',
];
const vague = [
  'It is ok, nothing special',
  'Just fine',
  'I only ordered once so far',
  'Convenient because I work long hours',
  'My neighbour recommended it',
  'Sometimes good, sometimes not',
  'no comment',
  'Habit, I suppose',
];
const foreign = [
  'Livraison rapide et produits frais',
  'Zu teuer, aber die Lieferung ist pünktlich',
  'Buena calidad y buen precio',
  'Prijs is te hoog',
  'Servizio clienti molto gentile',
];
const placeholders = ['-', 'n/a', 'N/A', '.', '?', '#N/A', '...'];

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function answerFor(score: number): string | null {
  const roll = random();
  if (roll < 0.05) return null;
  if (roll < 0.08) return pick(placeholders);
  if (roll < 0.14) return pick(vague);
  if (roll < 0.16) return pick(foreign);
  const tone = score >= 7 ? 'good' : score <= 4 ? 'bad' : random() < 0.5 ? 'good' : 'bad';
  const topic = pick(Object.values(topics));
  let text = `${pick(openers)}${pick(topic[tone])}`;
  if (random() < 0.2) {
    const other = pick(Object.values(topics));
    text += `, but ${pick(other[tone === 'good' ? 'bad' : 'good'])}`;
  }
  return capitalise(`${text}${pick(closers)}`.trim());
}

async function main(): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'verbatim example';
  const sheet = workbook.addWorksheet('Responses', { views: [{ state: 'frozen', ySplit: 3 }] });
  sheet.columns = [{ width: 12 }, { width: 13 }, { width: 13 }, { width: 14 }, { width: 70 }, { width: 10 }];
  sheet.getCell('A1').value = 'Customer survey 2026, wave 3 (export of 27 Nov 2026)';
  sheet.getCell('A1').font = { bold: true, size: 14 };
  sheet.mergeCells('A1:F1');
  sheet.getRow(2).values = [
    'Respondent',
    'Completed',
    'Country',
    'How likely are you to recommend us? (0-10)',
    'What is the main reason for your score?',
    'Age group',
  ];
  sheet.getRow(2).font = { italic: true, color: { argb: 'FF555555' } };
  sheet.getRow(3).values = ['ID', 'Date', 'Country', 'D1', 'E2', 'Age'];
  sheet.getRow(3).font = { bold: true };
  sheet.getRow(3).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };

  const countries = ['UK', 'Germany', 'France', 'Netherlands', 'Spain', 'Ireland'];
  const ages = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'];
  const given: string[] = [];
  for (let i = 0; i < 400; i += 1) {
    const score = Math.floor(random() * 11);
    let answer = answerFor(score);
    // Some people type what someone else typed, in their own case and spacing.
    if (answer && given.length > 10 && random() < 0.06) answer = ` ${pick(given).toLowerCase()} `;
    if (answer && answer.length > 3) given.push(answer.trim());
    const row = sheet.addRow([
      `R${10001 + i}`,
      new Date(Date.UTC(2026, 9, 1 + Math.floor(i / 21))),
      pick(countries),
      score,
      answer,
      pick(ages),
    ]);
    row.getCell(2).numFmt = 'yyyy-mm-dd';
  }
  sheet.autoFilter = 'A3:F3';

  const notes = workbook.addWorksheet('Notes');
  notes.getCell('A1').value = 'Fieldwork: 1-20 October 2026. Weighted by country.';
  await workbook.xlsx.writeFile(new URL('../examples/customer-survey.xlsx', import.meta.url).pathname);
}

await main();
