/**
 * What indexing a dataset folder yields, whatever its layout: the metadata rows (image id, lesion id,
 * diagnosis) and the image files found, in the order of preference used when an id appears twice.
 */
import type { ExcludedFile } from '../../shared/protocol/results';
import type { LesionClass } from '../../shared/classes';

export type LayoutName = 'kaggle-ham10000' | 'dataverse-ham10000' | 'isic2018-task3-training' | 'isic2018-task3-test';

export type Diagnosis = { ok: true; dx: LesionClass } | { ok: false; reason: string };

export interface MetadataRow {
  imageId: string;
  /** The lesion the image shows; the image id itself where the source has no lesion grouping. */
  lesionId: string;
  diagnosis: Diagnosis;
  /** `<metadata file>:<line>`, relative to the dataset folder. */
  where: string;
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
  /** Which split the images go to: train/val, or all to test (a test set prepared on its own). */
  purpose: 'train-val' | 'test';
  rows: MetadataRow[];
  /** In order of preference: for an id found twice, the earlier file is used. */
  files: ImageFile[];
  excluded: ExcludedFile[];
  /** Things a person should know that excluded nothing (folder-name case, a missing grouping file …). */
  notes: string[];
  testSet?: TestSetInfo;
}
