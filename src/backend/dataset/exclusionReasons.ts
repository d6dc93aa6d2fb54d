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
  noDiagnosis: (columns: readonly string[]): string => `no diagnosis: none of ${columns.join(', ')} is 1`,
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
