import { readdirSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError } from '@qtdog/core';

/** File name extensions read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** The images of one environment, in ImageFolder order (class, then sorted path). */
export interface EnvironmentFiles {
  readonly name: string;
  paths: string[];
  labels: Int32Array;
}

export interface ImageFolderListing {
  readonly root: string;
  /** Environment folder names, sorted. */
  readonly environments: string[];
  /** Class folder names, sorted (the same in every environment). */
  readonly classes: string[];
  readonly files: EnvironmentFiles[];
  /** Files that are not JPEG or PNG, skipped (a few examples). */
  readonly ignored: { count: number; examples: string[] };
}

/** Code-point order, as Python's sorted() on str (DomainBed and torchvision sort folder names). */
export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Visible sub-folders of `dir` (symbolic links followed), sorted. */
function subfolders(dir: string): string[] {
  return entries(dir)
    .filter((e) => isDir(dir, e))
    .map((e) => e.name)
    .sort(byCodePoint);
}

function entries(dir: string): Dirent[] {
  try {
    // Hidden entries (.DS_Store, .ipynb_checkpoints, ...) are never environments, classes or images.
    return readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  } catch (e) {
    throw new DataError(`cannot list folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function isDir(dir: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, e.name)).isDirectory();
  } catch {
    return false;
  }
}

/** Image files under `dir`, recursively, in torchvision's order (sorted walk, sorted names). */
function walkImages(dir: string, ignored: ImageFolderListing['ignored']): string[] {
  const out: string[] = [];
  const list = entries(dir).sort((a, b) => byCodePoint(a.name, b.name));
  for (const e of list) {
    const p = join(dir, e.name);
    if (isDir(dir, e)) continue;
    if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) out.push(p);
    else {
      ignored.count++;
      if (ignored.examples.length < 3) ignored.examples.push(p);
    }
  }
  for (const e of list) if (isDir(dir, e)) out.push(...walkImages(join(dir, e.name), ignored));
  return out;
}

/**
 * Lists `root/<environment>/<class>/<image>` (DomainBed's MultipleEnvironmentImageFolder over
 * torchvision's ImageFolder): environments and classes sorted by name, images of each class found
 * recursively. Fails with a DataError naming the folder when the root is missing or has no
 * environments, an environment has no class folders, a class folder has no images, or the classes
 * differ between environments.
 */
export function scanImageFolder(root: string): ImageFolderListing {
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new DataError(`image folder ${root} does not exist`);
  }
  if (!st.isDirectory()) throw new DataError(`image folder ${root} is not a folder`);
  const environments = subfolders(root);
  if (environments.length === 0) throw new DataError(`image folder ${root} has no environment folders (expected root/<environment>/<class>/<image>)`);

  const classesOf = environments.map((env) => {
    const classes = subfolders(join(root, env));
    if (classes.length === 0) throw new DataError(`environment folder ${join(root, env)} has no class folders (expected <environment>/<class>/<image>)`);
    return classes;
  });
  const all = [...new Set(classesOf.flat())].sort(byCodePoint);
  const problems: string[] = [];
  environments.forEach((env, e) => {
    const have = new Set(classesOf[e]);
    const missing = all.filter((c) => !have.has(c));
    if (missing.length > 0) problems.push(`${join(root, env)} lacks class folder(s) ${missing.map((c) => `'${c}'`).join(', ')}`);
  });
  if (problems.length > 0) {
    throw new DataError(`image folder ${root}: the class folders differ between environments (every environment needs the same classes): ${problems.join('; ')}`);
  }

  const ignored = { count: 0, examples: [] as string[] };
  const files = environments.map((env): EnvironmentFiles => {
    const paths: string[] = [];
    const labels: number[] = [];
    all.forEach((cls, label) => {
      const dir = join(root, env, cls);
      const found = walkImages(dir, ignored);
      if (found.length === 0) throw new DataError(`class folder ${dir} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
      paths.push(...found);
      for (let i = 0; i < found.length; i++) labels.push(label);
    });
    return { name: env, paths, labels: Int32Array.from(labels) };
  });
  return { root, environments, classes: all, files, ignored };
}
