// The Fashion-MNIST VQA question templates and their ground truth, one row per class.
//
//  label  class (original)  name (canonical)  feet  body         sleeves  category
//  0      T-shirt/top       t-shirt           no    upper body   (skip)   clothing
//  1      Trouser           trousers          no    legs         no       clothing
//  2      Pullover          pullover          no    upper body   yes      clothing
//  3      Dress             dress             no    whole body   (skip)   clothing
//  4      Coat              coat              no    upper body   yes      clothing
//  5      Sandal            sandal            yes   feet         no       footwear
//  6      Shirt             shirt             no    upper body   yes      clothing
//  7      Sneaker           sneaker           yes   feet         no       footwear
//  8      Bag               bag               no    hand         no       accessory
//  9      Ankle boot        ankle boot        yes   feet         no       footwear
//
// Sleeves are skipped where the class itself is ambiguous: "T-shirt/top" includes sleeveless tops and
// dresses come with or without sleeves. Items that cannot have sleeves (trousers, shoes, bags) answer "no",
// so the template is not all "yes".
//
// The extended question set (`questions: 'extended'`, docs/fashion-mnist.md) adds three harder templates on
// the classes that are easy to confuse, asked only where they apply:
//
//  label  class        front (opens down the front?)  ankle (covers the ankle?)  top (which kind of top?)
//  0      t-shirt      no                             -                          t-shirt
//  2      pullover     no                             -                          pullover
//  4      coat         yes                            -                          coat
//  6      shirt        yes                            -                          shirt
//  5      sandal       -                              no                         -
//  7      sneaker      -                              no                         -
//  9      ankle boot   -                              yes                        -
//
// `front` splits exactly the pairs people (and the stand-in teachers) confuse: shirt / t-shirt and
// coat / pullover. No new question lists its options, so a response cannot be right by repeating the question.
//
// Answers are short and lowercase, and no answer of a template is a whole word inside another answer of
// the same template, so a rule judge can match them as whole words -- with one rule: a hyphen is part of a
// word. "shirt" must not match inside "t-shirt"; JavaScript's \b would (the hyphen is a boundary), so use
// `mentionsAnswer` below (or the same lookarounds) rather than /\bshirt\b/.

export type ClassId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
export const CLASS_IDS: readonly ClassId[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

export type TemplateId = 'name' | 'feet' | 'body' | 'sleeves' | 'category' | 'front' | 'ankle' | 'top';
/** `basic`: the five original templates (the default, unchanged); `extended`: basic + front, ankle, top. */
export type QuestionSet = 'basic' | 'extended';
export const QUESTION_SETS: readonly QuestionSet[] = ['basic', 'extended'];

export interface Template {
  id: TemplateId;
  question: string;
}

/** The basic set, in the order their examples are written for an image. */
export const TEMPLATES: readonly Template[] = [
  { id: 'name', question: 'What item is shown in this image?' },
  { id: 'feet', question: 'Is this item worn on the feet?' },
  { id: 'body', question: 'Where on the body is this item worn or carried?' },
  { id: 'sleeves', question: 'Does this item have sleeves?' },
  { id: 'category', question: 'Is this item clothing, footwear or an accessory?' },
];

/** The extended set: the basic templates, then the three harder ones (fine-grained, confusable classes). */
export const EXTENDED_TEMPLATES: readonly Template[] = [
  ...TEMPLATES,
  { id: 'front', question: 'Does this top open down the front?' },
  { id: 'ankle', question: 'Does this shoe cover the ankle?' },
  { id: 'top', question: 'Which kind of top is this?' },
];

export const templatesOf = (set: QuestionSet): readonly Template[] => (set === 'extended' ? EXTENDED_TEMPLATES : TEMPLATES);

export type BodyPart = 'upper body' | 'legs' | 'whole body' | 'feet' | 'hand';
export type Category = 'clothing' | 'footwear' | 'accessory';
export type YesNo = 'yes' | 'no';

export interface ClassInfo {
  label: ClassId;
  /** The class name in the original dataset. */
  original: string;
  /** The canonical answer to the `name` template. */
  name: string;
  feet: YesNo;
  body: BodyPart;
  /** null: the question is not asked for this class (ambiguous). */
  sleeves: YesNo | null;
  category: Category;
  /** Extended set; null where not asked: does the top open down the front (tops only)? */
  front: YesNo | null;
  /** Extended set: does the shoe cover the ankle (footwear only)? */
  ankle: YesNo | null;
  /** Extended set: which kind of top (tops only; the class name). */
  top: string | null;
}

const TOPS: Partial<Record<ClassId, YesNo>> = { 0: 'no', 2: 'no', 4: 'yes', 6: 'yes' };
const SHOES: Partial<Record<ClassId, YesNo>> = { 5: 'no', 7: 'no', 9: 'yes' };

const row = (label: ClassId, original: string, name: string, feet: YesNo, body: BodyPart, sleeves: YesNo | null, category: Category): ClassInfo =>
  ({ label, original, name, feet, body, sleeves, category, front: TOPS[label] ?? null, ankle: SHOES[label] ?? null, top: label in TOPS ? name : null });

export const CLASSES: readonly ClassInfo[] = [
  row(0, 'T-shirt/top', 't-shirt', 'no', 'upper body', null, 'clothing'),
  row(1, 'Trouser', 'trousers', 'no', 'legs', 'no', 'clothing'),
  row(2, 'Pullover', 'pullover', 'no', 'upper body', 'yes', 'clothing'),
  row(3, 'Dress', 'dress', 'no', 'whole body', null, 'clothing'),
  row(4, 'Coat', 'coat', 'no', 'upper body', 'yes', 'clothing'),
  row(5, 'Sandal', 'sandal', 'yes', 'feet', 'no', 'footwear'),
  row(6, 'Shirt', 'shirt', 'no', 'upper body', 'yes', 'clothing'),
  row(7, 'Sneaker', 'sneaker', 'yes', 'feet', 'no', 'footwear'),
  row(8, 'Bag', 'bag', 'no', 'hand', 'no', 'accessory'),
  row(9, 'Ankle boot', 'ankle boot', 'yes', 'feet', 'no', 'footwear'),
];

/** The ground-truth answer, or null where the template is skipped for the class. */
export function answerFor(template: TemplateId, label: ClassId): string | null {
  const c = CLASSES[label];
  return template === 'name' ? c.name : c[template];
}

/** The templates of the set asked about an image of this class, in the set's order. */
export const applicableTemplates = (label: ClassId, set: QuestionSet = 'basic'): Template[] =>
  templatesOf(set).filter((t) => answerFor(t.id, label) !== null);

/** Every answer a template can have, for judges that also check for conflicting answers. */
export const ANSWER_SPACE: Readonly<Record<TemplateId, readonly string[]>> = {
  name: CLASSES.map((c) => c.name),
  feet: ['yes', 'no'],
  body: ['upper body', 'legs', 'whole body', 'feet', 'hand'],
  sleeves: ['yes', 'no'],
  category: ['clothing', 'footwear', 'accessory'],
  front: ['yes', 'no'],
  ankle: ['yes', 'no'],
  top: ['t-shirt', 'pullover', 'coat', 'shirt'],
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whole-word, case-insensitive: does `text` contain `answer`? Letters, digits and hyphens count as word
 * characters, so "shirt" is not found in "T-shirt." while "t-shirt" is; runs of spaces match one space.
 */
export function mentionsAnswer(text: string, answer: string): boolean {
  const body = answer.trim().split(/\s+/).map(escapeRe).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}-])${body}(?![\\p{L}\\p{N}-])`, 'iu').test(text);
}
