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
