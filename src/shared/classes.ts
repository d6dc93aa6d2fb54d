/**
 * Class lists. A prepared dataset's classes come from its data (manifest.json › classes) and every
 * stage reads them from there; this file holds what is known about named diagnoses (their long names)
 * and the seven HAM10000 / ISIC 2018 Task 3 classes, which the demo data and the HAM layouts use.
 */

/**
 * The seven HAM10000 / ISIC 2018 Task 3 diagnoses. The order is alphabetical because that is the
 * class index order Keras' `flow_from_directory` assigns, so a model trained here lines up with one
 * trained by the reference workflow.
 */
export const LESION_CLASSES = ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc'] as const;
export type LesionClass = (typeof LESION_CLASSES)[number];

export interface LesionClassInfo {
  /** Human-readable diagnosis. */
  readonly label: string;
  /** Images of this class in HAM10000 (10,015 in all). */
  readonly ham10000Images: number;
  /** Column name in the ISIC 2018 Task 3 one-hot ground-truth CSV. */
  readonly isicColumn: string;
}

export const LESION_CLASS_INFO: Readonly<Record<LesionClass, LesionClassInfo>> = {
  akiec: { label: 'Actinic keratosis / intraepithelial carcinoma', ham10000Images: 327, isicColumn: 'AKIEC' },
  bcc: { label: 'Basal cell carcinoma', ham10000Images: 514, isicColumn: 'BCC' },
  bkl: { label: 'Benign keratosis', ham10000Images: 1099, isicColumn: 'BKL' },
  df: { label: 'Dermatofibroma', ham10000Images: 115, isicColumn: 'DF' },
  mel: { label: 'Melanoma', ham10000Images: 1113, isicColumn: 'MEL' },
  nv: { label: 'Melanocytic nevus', ham10000Images: 6705, isicColumn: 'NV' },
  vasc: { label: 'Vascular lesion', ham10000Images: 142, isicColumn: 'VASC' },
};

export const HAM10000_TOTAL_IMAGES = 10015;

export function isLesionClass(value: unknown): value is LesionClass {
  return typeof value === 'string' && (LESION_CLASSES as readonly string[]).includes(value);
}

/** ISIC 2019 Task 1's diagnoses beyond HAM10000's (its `AK` is actinic keratosis alone: `SCC` is separate). */
const ISIC_2019_LABELS: Readonly<Record<string, string>> = {
  ak: 'Actinic keratosis',
  scc: 'Squamous cell carcinoma',
  unk: 'None of the other diagnoses',
};

/** The long name of an abbreviation HAM10000 / ISIC use as a class name; undefined for any other name. */
export function knownClassLabel(name: string): string | undefined {
  return isLesionClass(name) ? LESION_CLASS_INFO[name].label : ISIC_2019_LABELS[name];
}

/** A class of a prepared dataset, in the order of the model's outputs. */
export interface ClassInfo {
  name: string;
  /** The long name, where the data names a known diagnosis by its abbreviation. */
  label?: string;
}

/** name → long name, for the classes that have one (what run configs, evaluations and predictions carry). */
export type ClassLabels = Record<string, string>;

export function classLabelsOf(classes: readonly ClassInfo[]): ClassLabels {
  return Object.fromEntries(classes.flatMap((c) => (c.label ? [[c.name, c.label]] : [])));
}

/**
 * The long name to show beside a class name. `labels` is what the data recorded; a run or summary written
 * before classes came from the data has none, and then the HAM10000 names keep their long names.
 */
export function classLabel(name: string, labels?: ClassLabels): string | undefined {
  return labels ? labels[name] : isLesionClass(name) ? LESION_CLASS_INFO[name].label : undefined;
}

/** "mel — Melanoma", or the name alone when it has no long name. */
export function describeClass(name: string, labels?: ClassLabels): string {
  const label = classLabel(name, labels);
  return label ? `${name} — ${label}` : name;
}

/**
 * The order of a data-driven class list: by code point, as Python's `sorted()` orders the folder names
 * Keras' `flow_from_directory` turns into class indices (so `Benign` comes before `benign`, and a
 * model trained there lines up with one trained here). HAM10000's seven come out in LESION_CLASSES order.
 */
export function compareClassNames(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A class of a prepared dataset and the folder its images are in (`train/<folder>/`, `aug/<folder>/` …). */
export interface PreparedClass extends ClassInfo {
  folder: string;
}

/**
 * A prepared dataset's classes from its manifest, in the model's output order. A manifest written before
 * classes came from the data has none: its summary lists them (HAM10000's seven), each in a folder of its name.
 */
export function preparedClasses(manifest: { classes?: PreparedClass[]; summary: { classes: readonly { name: string; label?: string }[] } }): PreparedClass[] {
  if (manifest.classes) return manifest.classes;
  return manifest.summary.classes.map((c) => {
    const label = c.label ?? knownClassLabel(c.name);
    return { name: c.name, folder: c.name, ...(label ? { label } : {}) };
  });
}

/**
 * The long names a dataset summary recorded; undefined for a summary written before classes came from the
 * data (none recorded), so that classLabel falls back to HAM10000's long names there.
 */
export function summaryClassLabels(classes: readonly { name: string; label?: string }[]): ClassLabels | undefined {
  const labels = Object.fromEntries(classes.flatMap((c) => (c.label ? [[c.name, c.label]] : [])));
  return Object.keys(labels).length > 0 ? labels : undefined;
}
