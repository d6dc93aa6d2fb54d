/**
 * A folder per class — Teachable Machine's and Keras' `flow_from_directory` layout, and what DermNet-style
 * downloads look like: `<root>/<class name>/**\/*.{jpg,jpeg,png}`. The folder names are the classes, as they
 * are written (spaces, dashes, any script). A wrapper folder around them is looked through, and where the
 * folders are splits (`train/`, `test/` …) the training split's folders are the classes.
 *
 * A table beside the class folders with an image column and a group column (lesion_id, patient_id …)
 * groups the split; without one, every image is split on its own.
 */
import path from 'node:path';
import { UserError } from '../errors';
import type { ExcludedFile } from '../../shared/protocol/results';
import type { DatasetIndex, ImageFile, MetadataRow } from './datasetIndex';
import { REASON } from './exclusionReasons';
import { displayPath } from './folderScan';
import type { TreeImage } from './imageTree';
import { listImageTree, listSubfolders } from './imageTree';
import { readTable } from './metadataReaders';
import { ImageResolver, groupNoun, guessColumns } from './tableLayout';

const SPLIT_FOLDER = /^(train|training|val|valid|validation|test|testing)$/i;
const TRAINING_FOLDER = /^(train|training)$/i;

export interface ClassTree {
  /** The folder whose subfolders are the classes. */
  classRoot: string;
  /** Class folder name → its images (relative to the class root). */
  classes: Map<string, TreeImage[]>;
  /** Images directly in the class root, in no class. */
  loose: TreeImage[];
  notes: string[];
}

/**
 * The class folders under `root`, if it is laid out as a folder per class: at least two subfolders with
 * images in them (one class cannot be learnt, so one folder is an error that says so). Undefined otherwise.
 */
export async function findClassTree(root: string, signal: AbortSignal): Promise<ClassTree | undefined> {
  const notes: string[] = [];
  let classRoot = root;
  for (let hops = 0; hops < 3; hops++) {
    const images = await listImageTree(classRoot, signal);
    const byFolder = groupByTopFolder(images);
    const loose = byFolder.get('') ?? [];
    byFolder.delete('');
    const named = [...byFolder.keys()];
    if (named.length === 0) return undefined;
    // Splits, not classes: train/<class>/…, test/<class>/….
    if (named.every((f) => SPLIT_FOLDER.test(f)) && named.some((f) => TRAINING_FOLDER.test(f))) {
      const training = named.find((f) => TRAINING_FOLDER.test(f))!;
      const others = named.filter((f) => f !== training);
      if (others.length > 0) notes.push(`used ${displayPath(root, path.join(classRoot, training))}/ as the class folders; ${others.map((f) => `${f}/`).join(', ')} ${others.length === 1 ? 'was' : 'were'} left out (prepare ${others.length === 1 ? 'it' : 'them'} on its own to evaluate on it).`);
      classRoot = path.join(classRoot, training);
      continue;
    }
    // A wrapper folder: my-dataset/images/<class>/…
    if (named.length === 1 && loose.length === 0) {
      const only = path.join(classRoot, named[0]!);
      if ((await listSubfolders(only)).length > 0) {
        classRoot = only;
        continue;
      }
    }
    if (named.length < 2) {
      throw new UserError(
        `${displayPath(root, path.join(classRoot, named[0]!)) || root}/ is the only folder of images in ${root}: a folder per class needs at least two class folders (e.g. benign/ and malignant/), each holding that class's images.`,
      );
    }
    return { classRoot, classes: byFolder, loose, notes };
  }
  return undefined;
}

function groupByTopFolder(images: readonly TreeImage[]): Map<string, TreeImage[]> {
  const byFolder = new Map<string, TreeImage[]>();
  for (const img of images) {
    const slash = img.rel.indexOf('/');
    const top = slash < 0 ? '' : img.rel.slice(0, slash);
    byFolder.set(top, [...(byFolder.get(top) ?? []), img]);
  }
  return byFolder;
}

/** Rows for every image of a class tree; `tables`: the tables found near the dataset's top, for grouping. */
export async function indexClassTree(root: string, tree: ClassTree, tables: readonly string[]): Promise<Omit<DatasetIndex, 'layout' | 'purpose' | 'root'>> {
  const notes = [...tree.notes];
  const excluded: ExcludedFile[] = tree.loose.map((img) => ({ file: displayPath(root, img.path), reason: REASON.noClassFolder }));
  const all = [...tree.classes.values()].flat();
  const sidecar = await findSidecar(root, tree, tables, all, notes);
  const rows: MetadataRow[] = [];
  let ungrouped = 0;
  for (const [folder, images] of [...tree.classes.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dx = folder.normalize('NFC');
    // Ids need only be unique within a class: each class has its folder in the prepared dataset.
    const resolver = new ImageResolver(images.map((img) => ({ path: img.path, rel: img.rel.slice(folder.length + 1) })));
    for (const img of resolver.images) {
      const display = displayPath(root, img.path);
      const group = sidecar?.groups.get(img.path);
      if (sidecar && group === undefined) ungrouped++;
      const imageId = resolver.idOf(img);
      const file: ImageFile = { imageId, path: img.path, display };
      rows.push({ imageId, lesionId: group ?? `image ${display}`, ...(group === undefined ? { ungrouped: true } : {}), diagnosis: { ok: true, dx }, where: display, file });
    }
  }
  if (sidecar && ungrouped > 0) notes.push(`${ungrouped} image(s) are not in ${sidecar.display}: each of those is split on its own.`);
  return {
    rows,
    files: [],
    excluded,
    notes,
    ...(sidecar ? { grouping: { column: sidecar.column, noun: groupNoun(sidecar.column) } } : {}),
  };
}

interface Sidecar {
  display: string;
  column: string;
  /** Image path → group. */
  groups: Map<string, string>;
}

/** A table with an image column and a group column that names images of the tree. */
async function findSidecar(root: string, tree: ClassTree, tables: readonly string[], images: readonly TreeImage[], notes: string[]): Promise<Sidecar | undefined> {
  const resolver = new ImageResolver(images);
  for (const file of tables) {
    const table = await readTable(file);
    const guess = guessColumns(table);
    if (!guess.image || !guess.group) continue;
    const display = displayPath(root, file);
    const groups = new Map<string, string>();
    let ambiguous = 0;
    const base = displayPath(tree.classRoot, path.dirname(file)).replace(/^\.$/, '');
    for (const r of table.rows) {
      const group = r.get(guess.group) ?? '';
      const found = resolver.resolve(r.get(guess.image) ?? '', base.startsWith('..') ? '' : base);
      if (found && 'ambiguous' in found) ambiguous++;
      else if (found && group !== '') groups.set(found.file.path, group);
    }
    if (groups.size === 0) continue;
    notes.push(`grouped the split by ${guess.group} from ${display} (column ${guess.image} names the images).`);
    if (ambiguous > 0) notes.push(`${ambiguous} row(s) of ${display} name a file that is in several class folders; those images are split on their own. Give paths (e.g. benign/x.jpg) to tell them apart.`);
    return { display, column: guess.group, groups };
  }
  return undefined;
}
