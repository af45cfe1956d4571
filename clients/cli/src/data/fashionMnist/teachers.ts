// Two scripted stand-in teachers for the Fashion-MNIST VQA demo. They are NOT vision-language models:
// they read the ground-truth label and phrase an answer, so the platform's teacher caches, judges and
// discriminator have something with two clearly different styles to work with before a real VLM endpoint
// is registered.
//
//   teacher-concise  a bare answer, 2-4 words ("Ankle boot.", "No, it isn't.")
//   teacher-verbose  a sentence or two that names the item it sees, gives a reason and ends with
//                    "So the answer is: ..." or similar
//
// Each teacher writes `samples` paraphrased responses per question: sample k uses the k-th phrasing of a
// seeded permutation of that teacher's phrasings for the template, so samples differ while there are
// phrasings left (4 per template).
//
// Mistakes: only on the classes people confuse, with the fixed rates of TEACHER_CONFUSIONS. For each
// (teacher, image, sample) the teacher first "perceives" a class -- the true one, or with the table's
// probability its confusion partner -- and answers every question about that image in that sample from
// the perceived class, so a misreading is consistent: the verbose teacher names the perceived item in
// every answer. The confused pairs agree on every template but the name (both are upper-body clothing
// with sleeves), so the visible mistakes are on `name` questions; on the other templates the answer stays
// right while the verbose reasoning names the wrong item. Otherwise every response contains its
// template's correct answer, and no other answer of that template, as a whole word (see mentionsAnswer).
import type { BodyPart, Category, ClassId, QuestionSet, TemplateId, YesNo } from './questions.js';
import { CLASSES } from './questions.js';
import { randInt, rngFor, shuffle } from './random.js';

export const TEACHERS = ['teacher-concise', 'teacher-verbose'] as const;
export type TeacherName = (typeof TEACHERS)[number];

export interface Confusion {
  /** The true class... */
  from: ClassId;
  /** ...read as this class... */
  to: ClassId;
  /** ...with this probability, independently per (image, sample). */
  rate: number;
}

/** The documented mistakes. Labels: 0 t-shirt, 2 pullover, 4 coat, 6 shirt. */
export const TEACHER_CONFUSIONS: Readonly<Record<TeacherName, readonly Confusion[]>> = {
  'teacher-concise': [
    { from: 6, to: 0, rate: 0.3 },
    { from: 0, to: 6, rate: 0.15 },
    { from: 2, to: 4, rate: 0.2 },
    { from: 4, to: 2, rate: 0.2 },
  ],
  'teacher-verbose': [
    { from: 6, to: 0, rate: 0.12 },
    { from: 0, to: 6, rate: 0.06 },
    { from: 2, to: 4, rate: 0.08 },
    { from: 4, to: 2, rate: 0.1 },
  ],
};

/** The class a teacher reads the image as, for one sample. `imageKey` names the source image, e.g. `train-00012`. */
export function perceivedClass(seed: number, teacher: TeacherName, imageKey: string, sample: number, label: ClassId): ClassId {
  const confusion = TEACHER_CONFUSIONS[teacher].find((c) => c.from === label);
  if (!confusion) return label;
  return rngFor(seed, `${teacher}:perceive:${imageKey}:${sample}`)() < confusion.rate ? confusion.to : label;
}

/** What a teacher answers about an item it believes is of class `label` (it assumes tops have sleeves). */
export function teacherAnswer(template: TemplateId, label: ClassId): string {
  const c = CLASSES[label];
  switch (template) {
    case 'name': return c.name;
    case 'feet': return c.feet;
    case 'body': return c.body;
    case 'sleeves': return c.sleeves ?? 'yes';
    case 'category': return c.category;
    case 'front': return c.front ?? 'no';
    case 'ankle': return c.ankle ?? 'no';
    case 'top': return c.top ?? c.name;
  }
}

// ---- phrasing ------------------------------------------------------------------------------------------

/** For the verbose teacher's `name` answers; none of these mention another class's name. */
const LOOKS: Readonly<Record<ClassId, { desc: string; shape: string }>> = {
  0: { desc: 'a casual top, usually with short sleeves', shape: 'a boxy torso with short sleeves' },
  1: { desc: 'a garment with two separate legs', shape: 'two long parallel tubes' },
  2: { desc: 'a knitted top pulled on over the head', shape: 'a wide torso with long sleeves and a closed front' },
  3: { desc: 'a one-piece garment with a skirt', shape: 'a fitted top flaring out below the waist' },
  4: { desc: 'an outer garment worn over other clothes', shape: 'long sleeves and an opening down the front' },
  5: { desc: 'an open shoe held on by straps', shape: 'thin straps over an open sole' },
  6: { desc: 'a collared top that buttons down the front', shape: 'a collar, a button placket and sleeves' },
  7: { desc: 'a low, sporty lace-up shoe', shape: 'a low profile on a thick sole' },
  8: { desc: 'something to carry belongings in', shape: 'a boxy body with a handle or strap' },
  9: { desc: 'a sturdy shoe that covers the ankle', shape: 'a thick sole and a shaft rising over the ankle' },
};

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** "an ankle boot", "a pair of trousers". */
const withArticle = (name: string) => (name === 'trousers' ? 'a pair of trousers' : `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`);
const bodyPlace = (part: BodyPart) =>
  part === 'hand' ? 'carried in the hand' : part === 'whole body' ? 'worn over the whole body' : `worn on the ${part}`;
const categoryPhrase = (cat: Category) => (cat === 'accessory' ? 'an accessory' : cat);

interface Facts {
  /** The perceived item, with its article ("an ankle boot"). */
  item: string;
  name: string;
  answer: string;
  label: ClassId;
}

type Phrasing = (f: Facts) => string;

const yesNo = (yes: Phrasing[], no: Phrasing[]) => (f: Facts) => (f.answer === 'yes' ? yes : no);

const CONCISE: Readonly<Record<TemplateId, (f: Facts) => Phrasing[]>> = {
  name: () => [(f) => `${cap(f.name)}.`, (f) => `${cap(f.item)}.`, (f) => `It's ${f.item}.`, (f) => f.name],
  feet: yesNo(
    [() => 'Yes.', () => 'Yes, it is.', () => 'yes', () => 'Yes, on the feet.'],
    [() => 'No.', () => "No, it isn't.", () => 'no', () => 'No, not on the feet.'],
  ),
  body: () => [(f) => `${cap(f.answer)}.`, (f) => f.answer, (f) => `${cap(bodyPlace(f.answer as BodyPart))}.`, (f) => `The ${f.answer}.`],
  sleeves: yesNo(
    [() => 'Yes.', () => 'Yes, it does.', () => 'yes', () => 'Yes, it has sleeves.'],
    [() => 'No.', () => "No, it doesn't.", () => 'no', () => 'No, it has none.'],
  ),
  category: () => [(f) => `${cap(f.answer)}.`, (f) => f.answer, (f) => `It's ${categoryPhrase(f.answer as Category)}.`, (f) => `${cap(f.answer)}, I'd say.`],
  front: yesNo(
    [() => 'Yes.', () => 'Yes, it does.', () => 'yes', () => 'Yes, down the front.'],
    [() => 'No.', () => "No, it doesn't.", () => 'no', () => 'No, it is closed.'],
  ),
  ankle: yesNo(
    [() => 'Yes.', () => 'Yes, it does.', () => 'yes', () => 'Yes, it covers the ankle.'],
    [() => 'No.', () => "No, it doesn't.", () => 'no', () => 'No, it stays below the ankle.'],
  ),
  top: () => [(f) => `${cap(f.name)}.`, (f) => `${cap(f.item)}.`, (f) => `It's ${f.item}.`, (f) => f.name],
};

/** The basic set's verbose teacher (the basic templates only). */
const VERBOSE: Readonly<Partial<Record<TemplateId, (f: Facts) => Phrasing[]>>> = {
  name: () => [
    (f) => `Looking at the image, this is ${f.item}: ${LOOKS[f.label].desc}. So the answer is: ${f.name}.`,
    (f) => `The picture shows a small grayscale item. Its outline, ${LOOKS[f.label].shape}, points to ${f.item}. Answer: ${f.name}.`,
    (f) => `I can see ${f.item} in this image, ${LOOKS[f.label].desc}. The answer is ${f.name}.`,
    (f) => `Judging by the silhouette (${LOOKS[f.label].shape}), the item shown is ${f.item}. Final answer: ${f.name}.`,
  ],
  feet: yesNo(
    [
      (f) => `Looking at the image, this is ${f.item}, which is worn on the feet. So the answer is: yes.`,
      (f) => `The item appears to be ${f.item}. You put ${f.item} on your feet, so the answer is yes.`,
      (f) => `This image shows ${f.item}; it goes on the feet. Answer: yes.`,
      (f) => `I see ${f.item}. Since ${f.item} is worn on the feet, the answer is: yes.`,
    ],
    [
      (f) => `Looking at the image, this is ${f.item}, which is not worn on the feet. So the answer is: no.`,
      (f) => `The item appears to be ${f.item}. You would not put ${f.item} on your feet, so the answer is no.`,
      (f) => `This image shows ${f.item}; it does not go on the feet. Answer: no.`,
      (f) => `I see ${f.item}. Since ${f.item} is not worn on the feet, the answer is: no.`,
    ],
  ),
  body: () => [
    (f) => `Looking at the image, this is ${f.item}, which is ${bodyPlace(f.answer as BodyPart)}. So the answer is: ${f.answer}.`,
    (f) => `The item is ${f.item}. ${cap(f.item)} is ${bodyPlace(f.answer as BodyPart)}. Answer: ${f.answer}.`,
    (f) => `I can see ${f.item} here, and ${f.item} is ${bodyPlace(f.answer as BodyPart)}. The answer is ${f.answer}.`,
    (f) => `This looks like ${f.item}, an item ${bodyPlace(f.answer as BodyPart)}. Final answer: ${f.answer}.`,
  ],
  sleeves: yesNo(
    [
      (f) => `Looking at the image, this is ${f.item}, which has sleeves. So the answer is: yes.`,
      (f) => `The item appears to be ${f.item}, and I can make out its sleeves. Answer: yes.`,
      (f) => `This is ${f.item}; garments like this have sleeves, so the answer is yes.`,
      (f) => `I see ${f.item} with sleeves on both sides. Final answer: yes.`,
    ],
    [
      (f) => `Looking at the image, this is ${f.item}, which has no sleeves. So the answer is: no.`,
      (f) => `The item appears to be ${f.item}, and it has nothing like sleeves. Answer: no.`,
      (f) => `This is ${f.item}; items like this do not have sleeves, so the answer is no.`,
      (f) => `I see ${f.item}, which is not a garment with sleeves. Final answer: no.`,
    ],
  ),
  category: () => [
    (f) => `Looking at the image, this is ${f.item}, which counts as ${categoryPhrase(f.answer as Category)}. So the answer is: ${f.answer}.`,
    (f) => `The item is ${f.item}. ${cap(f.item)} is ${categoryPhrase(f.answer as Category)}. Answer: ${f.answer}.`,
    (f) => `I can see ${f.item} in the image; that makes it ${categoryPhrase(f.answer as Category)}. The answer is ${f.answer}.`,
    (f) => `This looks like ${f.item}, so it belongs to ${f.answer === 'accessory' ? 'the accessories' : f.answer}. Final answer: ${f.answer}.`,
  ],
};

// ---- the extended set's verbose teacher: reasoning from visible attributes ---------------------------
//
// "The item has thin straps over a flat open sole, so it is a sandal, which is worn on the feet. So the
// answer is: yes." The attributes name no class and no answer of any template (no yes/no, no body part,
// no category), so every text still names exactly one answer of its template, stated last.

/** What can be seen, per class: the premises of the verbose teacher's reasoning in the extended set. */
export const VISIBLE_ATTRIBUTES: Readonly<Record<ClassId, string>> = {
  0: 'short sleeves, a round neck and a closed front',
  1: 'two long parallel tubes joined at the waist',
  2: 'long sleeves, a ribbed hem and a closed front',
  3: 'a fitted top flaring out into a skirt',
  4: 'long sleeves, a wide collar and an opening down the front',
  5: 'thin straps over a flat open sole',
  6: 'a collar, a button placket down the front and sleeves',
  7: 'a low profile, laces and a thick sole',
  8: 'a boxy shape with a handle',
  9: 'a thick sole, a heel and a shaft rising over the ankle',
};

const LEADS: readonly ((f: Facts) => string)[] = [
  (f) => `The item has ${VISIBLE_ATTRIBUTES[f.label]}, so it is ${f.item}`,
  (f) => `I can make out ${VISIBLE_ATTRIBUTES[f.label]}, which makes it ${f.item}`,
  (f) => `Looking at the image, I see ${VISIBLE_ATTRIBUTES[f.label]}: that is ${f.item}`,
  (f) => `It shows ${VISIBLE_ATTRIBUTES[f.label]}, so this is ${f.item}`,
];
const ENDINGS: readonly ((a: string) => string)[] = [
  (a) => `So the answer is: ${a}.`, (a) => `Answer: ${a}.`, (a) => `The answer is ${a}.`, (a) => `Final answer: ${a}.`,
];

/** The consequence drawn from the item for each template ('' for the item itself). */
const CONSEQUENCE: Readonly<Record<TemplateId, (f: Facts) => string>> = {
  name: () => '',
  top: () => '',
  feet: (f) => (f.answer === 'yes' ? 'which is worn on the feet' : 'which is not worn on the feet'),
  body: (f) => `which is ${bodyPlace(f.answer as BodyPart)}`,
  sleeves: (f) => (f.answer === 'yes' ? 'which has sleeves' : 'which has nothing like sleeves'),
  category: (f) => `which counts as ${categoryPhrase(f.answer as Category)}`,
  front: (f) => (f.answer === 'yes' ? 'which opens down the front' : 'which stays closed at the front'),
  ankle: (f) => (f.answer === 'yes' ? 'which covers the ankle' : 'which stays below the ankle'),
};

const reasoned = (template: TemplateId) => (): Phrasing[] =>
  LEADS.map((lead, k) => (f: Facts) => {
    const c = CONSEQUENCE[template](f);
    return `${lead(f)}${c ? `, ${c}` : ''}. ${ENDINGS[k](f.answer)}`;
  });

const REASONED = Object.fromEntries(
  (['name', 'feet', 'body', 'sleeves', 'category', 'front', 'ankle', 'top'] as TemplateId[]).map((t) => [t, reasoned(t)]),
) as unknown as Record<TemplateId, (f: Facts) => Phrasing[]>;

const STYLES: Readonly<Record<QuestionSet, Readonly<Record<TeacherName, Readonly<Partial<Record<TemplateId, (f: Facts) => Phrasing[]>>>>>>> = {
  basic: { 'teacher-concise': CONCISE, 'teacher-verbose': VERBOSE },
  extended: { 'teacher-concise': CONCISE, 'teacher-verbose': REASONED },
};

export interface TeacherLine {
  example: string;
  teacher: TeacherName;
  sample: number;
  text: string;
}

export interface TeacherQuestion {
  /** The example id. */
  id: string;
  /** The source image, e.g. `train-00012`. */
  imageKey: string;
  label: ClassId;
  template: TemplateId;
}

/** A teacher's `samples` responses to one example, sample 0..samples-1. */
export function teacherResponses(seed: number, teacher: TeacherName, q: TeacherQuestion, samples: number, set: QuestionSet = 'basic'): TeacherLine[] {
  const order = shuffle(rngFor(seed, `${teacher}:phrasing:${q.id}`), [0, 1, 2, 3]);
  const lines: TeacherLine[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const label = perceivedClass(seed, teacher, q.imageKey, sample, q.label);
    const name = CLASSES[label].name;
    const facts: Facts = { item: withArticle(name), name, answer: teacherAnswer(q.template, label), label };
    const style = STYLES[set][teacher][q.template];
    if (!style) throw new Error(`template ${q.template} is not in the ${set} question set`);
    const phrasings = style(facts);
    // Past the fourth sample, phrasings repeat in a fresh seeded order.
    const pick = sample < order.length ? order[sample] : randInt(rngFor(seed, `${teacher}:phrasing:${q.id}:${sample}`), phrasings.length);
    lines.push({ example: q.id, teacher, sample, text: phrasings[pick % phrasings.length](facts) });
  }
  return lines;
}
