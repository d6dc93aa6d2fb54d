/**
 * What indexing a dataset folder yields, whatever its layout: the metadata rows (image id, lesion id,
 * diagnosis) and the image files found, in the order of preference used when an id appears twice.
 */
import type { ClassInfo } from '../../shared/classes';
import type { ExcludedFile, SplitGrouping } from '../../shared/protocol/results';

export type LayoutName =
  | 'kaggle-ham10000'
  | 'dataverse-ham10000'
  | 'isic2018-task3-training'
  | 'isic2018-task3-test'
  | 'isic2019-task1-training'
  | 'isic2020-training'
  | 'folder-per-class'
  | 'csv';

export type Diagnosis = { ok: true; dx: string } | { ok: false; reason: string };

export interface MetadataRow {
  imageId: string;
  /** The group the image belongs to (a lesion, a patient …); a key of the image's own where it has none. */
  lesionId: string;
  /** The data gives this image no group: it is a group of its own. */
  ungrouped?: boolean;
  diagnosis: Diagnosis;
  /** `<metadata file>:<line>`, relative to the dataset folder (for a folder per class: the file). */
  where: string;
  /** The file, where the layout names it by path (a folder per class, a CSV of paths); else matched by image id. */
  file?: ImageFile;
}

export interface ImageFile {
  imageId: string;
  /** Absolute path of the file to link (inside the dataset folder, or extracted from a zip into the output's cache). */
  path: string;
  /** How reports name it: relative to the dataset folder, or `<zip>:<entry>`. */
  display: string;
}

/** The ISIC 2018 Task 3 test set, when one sits beside training data (evaluation can use it later). */
export interface TestSetInfo {
  /** The folder that holds the test ground truth. */
  path: string;
  groundTruth: string;
  input?: string;
  images: number;
}

export interface DatasetIndex {
  layout: LayoutName;
  root: string;
  /**
   * The classes the layout defines, in the model's order (HAM10000's seven, ISIC's one-hot columns). Absent
   * where the data defines them (a folder per class, a CSV's labels): then every label found is a class.
   */
  classes?: ClassInfo[];
  /** The group column the split keeps together; absent when the data has none. */
  grouping?: Omit<SplitGrouping, 'ungrouped'>;
  /** Which split the images go to: train/val, or all to test (a test set prepared on its own). */
  purpose: 'train-val' | 'test';
  rows: MetadataRow[];
  /** In order of preference: for an id found twice, the earlier file is used. */
  files: ImageFile[];
  excluded: ExcludedFile[];
  /** Things a person should know that excluded nothing (folder-name case, a missing grouping file …). */
  notes: string[];
  testSet?: TestSetInfo;
  /** The ISIC 2018 Task 3 test set's metadata and images, when they sit beside training data: prepared as test/. */
  test?: { rows: MetadataRow[]; files: ImageFile[]; excluded: ExcludedFile[] };
}
