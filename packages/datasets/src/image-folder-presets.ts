import { z } from 'zod';
import { DataError, definePlugin, pathOption, type PluginDefinition } from '@qtdog/core';
import { checkEnvironments, ImageFolderDataset, imageFolderOptionFields, resolveDataPath } from './image-folder-domains.js';
import type { ImageFolderListing } from './image-folder-scan.js';

/** What DomainBed's download script (domainbed/scripts/download.py) puts on disk for one dataset. */
export interface ImageFolderPreset {
  readonly name: string;
  /** Folder under DomainBed's data_dir. */
  readonly folder: string;
  /** Environment folder names, sorted as DomainBed sorts them (DomainBed's short names in comments). */
  readonly environments: readonly string[];
  readonly numClasses: number;
  /** Class folder names where they are few enough to check by name. */
  readonly classes?: readonly string[];
  readonly description: string;
}

export const IMAGE_FOLDER_PRESETS: readonly ImageFolderPreset[] = [
  {
    name: 'PACS',
    folder: 'PACS',
    environments: ['art_painting', 'cartoon', 'photo', 'sketch'], // A, C, P, S
    numClasses: 7,
    classes: ['dog', 'elephant', 'giraffe', 'guitar', 'horse', 'house', 'person'],
    description: 'PACS (Li et al., arXiv:1710.03077): art painting, cartoon, photo, sketch; 7 classes, 9,991 images',
  },
  {
    name: 'VLCS',
    folder: 'VLCS',
    environments: ['Caltech101', 'LabelMe', 'SUN09', 'VOC2007'], // C, L, S, V
    numClasses: 5,
    classes: ['bird', 'car', 'chair', 'dog', 'person'],
    description: 'VLCS (Fang et al., ICCV 2013): Caltech101, LabelMe, SUN09, VOC2007; 5 classes, 10,729 images',
  },
  {
    name: 'OfficeHome',
    folder: 'office_home',
    environments: ['Art', 'Clipart', 'Product', 'Real World'], // A, C, P, R
    numClasses: 65,
    description: 'Office-Home (Venkateswara et al., arXiv:1706.07522): art, clipart, product, real world; 65 classes, 15,588 images',
  },
  {
    name: 'TerraIncognita',
    folder: 'terra_incognita',
    environments: ['location_100', 'location_38', 'location_43', 'location_46'], // L100, L38, L43, L46
    numClasses: 10,
    classes: ['bird', 'bobcat', 'cat', 'coyote', 'dog', 'empty', 'opossum', 'rabbit', 'raccoon', 'squirrel'],
    description: 'Terra Incognita (Beery et al., arXiv:1807.04975): camera-trap locations 100, 38, 43, 46; 10 classes, 24,788 images',
  },
  {
    name: 'DomainNet',
    folder: 'domain_net',
    environments: ['clipart', 'infograph', 'painting', 'quickdraw', 'real', 'sketch'],
    numClasses: 345,
    description: 'DomainNet (Peng et al., arXiv:1812.01754): clipart, infograph, painting, quickdraw, real, sketch; 345 classes, 586,575 images',
  },
];

/** Environment variable: DomainBed's data_dir (the folder holding PACS/, VLCS/, office_home/, ...). */
export const DATA_DIR_ENV = 'QTDOG_DATA_DIR';

const HOW_TO_GET =
  "; DomainBed's domainbed/scripts/download.py --data_dir <dir> downloads the data in this layout (set the dataset's `root`, or " +
  `${DATA_DIR_ENV} to <dir>)`;

/** Checks a scanned folder against a preset; every difference is named in one DataError. */
export function checkPreset(p: ImageFolderPreset, listing: ImageFolderListing): void {
  checkEnvironments(p.name, listing, p.environments, HOW_TO_GET);
  const problems: string[] = [];
  if (p.classes) {
    const have = new Set(listing.classes);
    const want = new Set(p.classes);
    const missing = p.classes.filter((c) => !have.has(c));
    const extra = listing.classes.filter((c) => !want.has(c));
    if (missing.length > 0) problems.push(`missing class folder(s) ${missing.map((c) => `'${c}'`).join(', ')}`);
    if (extra.length > 0) problems.push(`unexpected class folder(s) ${extra.map((c) => `'${c}'`).join(', ')}`);
  } else if (listing.classes.length !== p.numClasses) {
    problems.push(`${listing.classes.length} class folders per environment, expected ${p.numClasses}`);
  }
  if (problems.length > 0) throw new DataError(`${p.name} at ${listing.root}: ${problems.join('; ')}${HOW_TO_GET}`);
}

/** The preset's folder: the `root` option, else $QTDOG_DATA_DIR/<folder>, else data/<folder> (both relative to the config file). */
export function presetRoot(p: ImageFolderPreset, root: string | undefined, baseDir: string): string {
  return resolveDataPath(root ?? defaultPresetRoot(p), baseDir);
}

/** $QTDOG_DATA_DIR/<folder>, else data/<folder> (relative paths are relative to the config file). */
export function defaultPresetRoot(p: ImageFolderPreset): string {
  return `${process.env[DATA_DIR_ENV]?.trim() || 'data'}/${p.folder}`;
}

/** A dataset plugin for one preset: ImageFolderDomains plus the preset's checks. */
function presetPlugin(p: ImageFolderPreset) {
  return definePlugin({
    kind: 'dataset',
    name: p.name,
    description: `${p.description} (DomainBed layout, ImageFolderDomains)`,
    options: z.object({
      /** The dataset folder; default $QTDOG_DATA_DIR/<DomainBed folder> or data/<DomainBed folder>, relative to the config file. */
      // The default is written into the resolved config, so a sweep job finds the same folder as the config it came from.
      root: pathOption('folder').default(() => defaultPresetRoot(p)),
      ...imageFolderOptionFields,
    }),
    create(options, ctx) {
      const root = presetRoot(p, options.root, ctx.baseDir);
      return new ImageFolderDataset(p.name, { ...options, root }, { seed: ctx.seed, log: ctx.log }, (listing) => checkPreset(p, listing));
    },
  });
}

export const imageFolderPresetPlugins: PluginDefinition[] = IMAGE_FOLDER_PRESETS.map(presetPlugin);
