/**
 * Why a file was left out of a prepared dataset: the exact texts written to manifest.json › excluded.
 * They are part of the contract (tests and people grep for them), so change them only on purpose.
 *
 * `file` in an exclusion is a path relative to the dataset folder; for an image inside a zip it is
 * `<zip>:<entry>`; for an image listed in the metadata but absent it is the image id as listed;
 * for a metadata row it is `<metadata file>:<line>`.
 */
import { LESION_CLASSES } from '../../shared/classes';

export const REASON = {
  missingImage: 'listed in metadata but no image file found',
  unlistedImage: 'image file not listed in metadata',
  zeroByte: 'zero-byte file',
  undecodable: (sharpMessage: string): string => `not a decodable image: ${sharpMessage}`,
  truncated: 'not a decodable image: damaged or truncated image data',
  unknownDiagnosis: (label: string): string => `unknown diagnosis '${label}' (expected one of ${LESION_CLASSES.join(', ')})`,
  /** A label outside the values a layout defines (ISIC 2020's target is 0 or 1). */
  unknownLabel: (label: string, expected: readonly string[]): string => `unknown label '${label}' (expected one of ${expected.join(', ')})`,
  noDiagnosis: (columns: readonly string[]): string => `no diagnosis: none of ${columns.join(', ')} is 1`,
  /** A table row whose label column is empty. */
  noLabel: (column: string): string => `no label: the ${column} column is empty`,
  /** A table row whose image name fits several files (the same name in different folders). */
  ambiguousImage: (files: readonly string[]): string => `names ${files.length} image files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ' …' : ''}): give its path to tell them apart`,
  /** An image beside the class folders of a folder-per-class dataset instead of inside one. */
  noClassFolder: 'image not inside a class folder',
  ambiguousDiagnosis: (columns: readonly string[]): string => `ambiguous diagnosis: ${columns.join(' and ')} are all 1`,
  /** The same image id found as a second file; `usedPath` is the copy that was used. */
  duplicateFile: (usedPath: string): string => `duplicate image id: also at ${usedPath}`,
  /** The same image id on a second metadata row with the same diagnosis; the first row was used. */
  duplicateRow: (usedRow: string): string => `duplicate image id: also listed at ${usedRow}`,
  conflictingRows: (rows: readonly string[], diagnoses: readonly string[]): string =>
    `listed more than once with different diagnoses (${diagnoses.join(', ')} at ${rows.join(', ')})`,
  conflictingLesion: (lesionId: string, diagnoses: readonly string[]): string =>
    `lesion ${lesionId} has images with different diagnoses (${diagnoses.join(', ')})`,
  duplicateFolder: (usedFolder: string, sameNames: number): string =>
    `duplicate folder: a second copy of ${usedFolder}/ (${sameNames} image files with the same names); ${usedFolder}/ is used`,
  zipEscapes: 'unsafe zip entry: path leads outside the folder',
  zipAbsolute: 'unsafe zip entry: absolute path',
  zipSymlink: 'unsafe zip entry: symbolic link',
  zipEncrypted: 'zip entry is encrypted',
  zipUnsupported: (method: number): string => `zip entry uses unsupported compression method ${method}`,
  zipDuplicateEntry: 'zip entry appears twice; the first one is used',
  zipUnreadable: (message: string): string => `zip entry could not be read: ${message}`,
} as const;
