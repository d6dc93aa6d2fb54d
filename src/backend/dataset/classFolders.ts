/**
 * The folder each class gets in a prepared dataset (`train/<folder>/`, `val/<folder>/`, `aug/<folder>/`).
 * A class name is kept as it is wherever it is a safe folder name on every platform the extension runs
 * on (`unsure – review` stays `unsure – review`); characters Windows or POSIX refuse become `_`, a leading
 * dot gets a `_` before it, and two names that would share a folder on a case-insensitive file system
 * (macOS, Windows) get `-2`, `-3` ….
 */

// Reserved on Windows whatever the extension: CON, CON.txt, com1 …
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

export function safeFolderName(name: string): string {
  let folder = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    .replace(/[. ]+$/, (tail) => '_'.repeat(tail.length));
  // Hidden folders (a leading dot) would vanish from file browsers and from folder scans.
  if (folder === '' || folder.startsWith('.')) folder = `_${folder}`;
  if (WINDOWS_RESERVED.test(folder)) folder = `_${folder}`;
  return folder;
}

/** One folder per class name, in the names' order; unique even where letter case does not count. */
export function classFolders(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = safeFolderName(name);
    let folder = base;
    for (let n = 2; taken.has(folder.toLowerCase()); n++) folder = `${base}-${n}`;
    taken.add(folder.toLowerCase());
    return folder;
  });
}
