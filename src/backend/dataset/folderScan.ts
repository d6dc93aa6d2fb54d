/**
 * Finds the files a dataset layout is made of, a few folder levels deep (the official ISIC zips unpack
 * into a folder of their own name), and picks one copy where image folders exist twice — the Kaggle
 * download ships `HAM10000_images_part_1/` and `ham10000_images_part_1/` side by side, and unpacking
 * sometimes nests a folder inside its namesake.
 */
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExcludedFile } from '../../shared/protocol/results';
import { throwIfCancelled } from '../errors';
import type { ImageFile } from './datasetIndex';
import { REASON } from './exclusionReasons';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
const MAX_DEPTH = 3;

/** A kind of image source: one HAM10000 part, or one ISIC input folder. */
export interface ImageSourceKind {
  key: string;
  /** The folder name as the official download spells it. */
  folderName: string;
}

export const METADATA_NAMES = {
  ham: ['HAM10000_metadata.csv', 'HAM10000_metadata', 'HAM10000_metadata.tab', 'HAM10000_metadata.tsv', 'HAM10000_metadata.txt'],
  isicTrain: ['ISIC2018_Task3_Training_GroundTruth.csv'],
  isicGroupings: ['ISIC2018_Task3_Training_LesionGroupings.csv'],
  isicTest: ['ISIC2018_Task3_Test_GroundTruth.csv'],
  isic2019Train: ['ISIC_2019_Training_GroundTruth.csv'],
  isic2019Metadata: ['ISIC_2019_Training_Metadata.csv'],
  // The official ground truth comes as ISIC_2020_Training_GroundTruth.csv and _v2.csv; Kaggle's copy is train.csv.
  isic2020: ['ISIC_2020_Training_GroundTruth_v2.csv', 'ISIC_2020_Training_GroundTruth.csv', 'train.csv'],
} as const;

/** Other tables near the top of a dataset folder: a generic CSV layout, or a folder-per-class sidecar. */
const TABLE_EXTENSIONS = ['.csv', '.tsv', '.tab'];
const TABLE_DEPTH = 1;

export const ISIC_TRAIN_INPUT: ImageSourceKind = { key: 'isic-train', folderName: 'ISIC2018_Task3_Training_Input' };
export const ISIC_TEST_INPUT: ImageSourceKind = { key: 'isic-test', folderName: 'ISIC2018_Task3_Test_Input' };
export const ISIC2019_TRAIN_INPUT: ImageSourceKind = { key: 'isic2019-train', folderName: 'ISIC_2019_Training_Input' };
const HAM_PART = /^ham10000_images_part_(\d+)$/i;

export function hamPart(n: string): ImageSourceKind {
  return { key: `ham-part-${n}`, folderName: `HAM10000_images_part_${n}` };
}

/** Which image source a folder (or, without its `.zip`, a zip file) name stands for. */
export function imageSourceKind(name: string): ImageSourceKind | undefined {
  const m = HAM_PART.exec(name);
  if (m) return hamPart(m[1]!);
  const lower = name.toLowerCase();
  if (lower === ISIC_TRAIN_INPUT.folderName.toLowerCase()) return ISIC_TRAIN_INPUT;
  if (lower === ISIC_TEST_INPUT.folderName.toLowerCase()) return ISIC_TEST_INPUT;
  if (lower === ISIC2019_TRAIN_INPUT.folderName.toLowerCase()) return ISIC2019_TRAIN_INPUT;
  return undefined;
}

export interface ImageFolder {
  kind: ImageSourceKind;
  path: string;
  depth: number;
  /** Image file names directly inside it. */
  images: string[];
  /** Other files directly inside it (licence texts, .DS_Store …), ignored. */
  otherFiles: number;
}

export interface FolderScan {
  root: string;
  /** Metadata files by role, shallowest first (isic2020: in the order of METADATA_NAMES.isic2020 at one depth). */
  metadata: Record<keyof typeof METADATA_NAMES, string[]>;
  /** Every other table (.csv, .tsv, .tab) in the folder or one level down, shallowest first. */
  tables: string[];
  folders: ImageFolder[];
  /** Zip files of image sources, by kind key, shallowest first. */
  zips: Map<string, { kind: ImageSourceKind; path: string }[]>;
}

export function isImageFileName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

export function imageIdOf(fileName: string): string {
  return path.basename(fileName, path.extname(fileName));
}

export function displayPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Breadth-first, so lists come out shallowest first. Hidden folders are skipped. */
export async function scanDataFolder(root: string, signal: AbortSignal): Promise<FolderScan> {
  const metadata = Object.fromEntries(Object.keys(METADATA_NAMES).map((role) => [role, [] as string[]])) as FolderScan['metadata'];
  const scan: FolderScan = { root, metadata, tables: [], folders: [], zips: new Map() };
  const roles = Object.entries(METADATA_NAMES).map(([role, names]) => ({
    role: role as keyof FolderScan['metadata'],
    names: (names as readonly string[]).map((n) => n.toLowerCase()),
  }));
  let level: string[] = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      throwIfCancelled(signal);
      const entries = await readDirOrEmpty(dir);
      if (dir !== root) {
        const kind = imageSourceKind(path.basename(dir));
        if (kind) {
          const images: string[] = [];
          let otherFiles = 0;
          for (const e of entries) {
            if (!(await isFile(dir, e))) continue;
            if (isImageFileName(e.name)) images.push(e.name);
            else otherFiles++;
          }
          images.sort();
          scan.folders.push({ kind, path: dir, depth, images, otherFiles });
        }
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const full = path.join(dir, e.name);
        const lower = e.name.toLowerCase();
        if (await isDirectory(dir, e)) {
          if (depth < MAX_DEPTH) next.push(full);
          continue;
        }
        const role = roles.find((r) => r.names.includes(lower));
        if (role) scan.metadata[role.role].push(full);
        else if (depth <= TABLE_DEPTH && TABLE_EXTENSIONS.includes(path.extname(lower))) scan.tables.push(full);
        if (lower.endsWith('.zip')) {
          const kind = imageSourceKind(e.name.slice(0, -4));
          if (kind) {
            const list = scan.zips.get(kind.key) ?? [];
            list.push({ kind, path: full });
            scan.zips.set(kind.key, list);
          }
        }
      }
    }
    level = next.sort();
  }
  // Shallowest first: the copy at the top of the dataset folder is the one meant; then by preference of name.
  const preference = (role: (typeof roles)[number], file: string): number => (role.role === 'isic2020' ? role.names.indexOf(path.basename(file).toLowerCase()) : 0);
  for (const role of roles) scan.metadata[role.role].sort((a, b) => depthOf(root, a) - depthOf(root, b) || preference(role, a) - preference(role, b) || a.localeCompare(b));
  scan.tables.sort((a, b) => depthOf(root, a) - depthOf(root, b) || a.localeCompare(b));
  return scan;
}

/**
 * For one kind of image source found in several folders: the folder with the official spelling (then
 * the shallowest) is used; any other folder's files with the same names are a duplicate copy, recorded
 * once per folder. Files only a copy has are still used, after the preferred folder's.
 */
export function pickImageFolders(root: string, folders: ImageFolder[]): { files: ImageFile[]; excluded: ExcludedFile[]; notes: string[] } {
  const files: ImageFile[] = [];
  const excluded: ExcludedFile[] = [];
  const notes: string[] = [];
  const byKind = new Map<string, ImageFolder[]>();
  for (const f of folders) {
    if (f.images.length === 0) continue;
    byKind.set(f.kind.key, [...(byKind.get(f.kind.key) ?? []), f]);
  }
  const toFile = (folder: ImageFolder, name: string): ImageFile => {
    const full = path.join(folder.path, name);
    return { imageId: imageIdOf(name), path: full, display: displayPath(root, full) };
  };
  for (const [, group] of [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    group.sort(
      (a, b) =>
        Number(path.basename(b.path) === b.kind.folderName) - Number(path.basename(a.path) === a.kind.folderName) ||
        a.depth - b.depth ||
        a.path.localeCompare(b.path),
    );
    const [used, ...copies] = group as [ImageFolder, ...ImageFolder[]];
    const usedDisplay = displayPath(root, used.path);
    if (path.basename(used.path) !== used.kind.folderName) {
      notes.push(`image folder ${usedDisplay}/ differs in letter case from ${used.kind.folderName}/; used as it is.`);
    }
    const usedIds = new Set(used.images.map((n) => imageIdOf(n).toLowerCase()));
    for (const name of used.images) files.push(toFile(used, name));
    for (const copy of copies) {
      const copyDisplay = displayPath(root, copy.path);
      const extra = copy.images.filter((n) => !usedIds.has(imageIdOf(n).toLowerCase()));
      const same = copy.images.length - extra.length;
      if (same > 0) excluded.push({ file: `${copyDisplay}/`, reason: REASON.duplicateFolder(usedDisplay, same) });
      if (extra.length > 0) notes.push(`${copyDisplay}/ has ${extra.length} image(s) that ${usedDisplay}/ lacks; they are used.`);
      for (const name of extra) {
        usedIds.add(imageIdOf(name).toLowerCase());
        files.push(toFile(copy, name));
      }
    }
  }
  return { files, excluded, notes };
}

async function readDirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

// Symbolic links are followed: people link big image folders in from elsewhere.
async function isDirectory(dir: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  return (await fs.stat(path.join(dir, e.name)).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(dir: string, e: Dirent): Promise<boolean> {
  if (e.isFile()) return true;
  if (!e.isSymbolicLink()) return false;
  return (await fs.stat(path.join(dir, e.name)).catch(() => undefined))?.isFile() ?? false;
}

function depthOf(root: string, file: string): number {
  return path.relative(root, file).split(path.sep).length;
}
