/**
 * The writer's class layouts against the streamer information ROOT itself wrote into the shared files:
 * every class both know must have the same version, checksum and members (names, type codes, type
 * names, counters). The expected values come from ROOT's files (read by jsroot), not from the writer.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.ts';
import { CLASSES, checksumOf } from '../../../src/io/root-write/streamers.ts';
import { sharedDir } from '../../shared.ts';

interface JsElement {
  _typename: string;
  fName: string;
  fType: number;
  fTypeName: string;
  fCountName?: string;
  fBaseVersion?: number;
}
interface JsInfo {
  fName: string;
  fClassVersion: number;
  fCheckSum: number;
  fElements?: { arr: JsElement[] };
}

const DATA = join(sharedDir, 'data');
const files = existsSync(DATA)
  ? [
      ...readdirSync(DATA).map((f) => join(DATA, f)),
      ...readdirSync(join(DATA, 'root-corpus')).map((f) => join(DATA, 'root-corpus', f)),
    ].filter((f) => f.endsWith('.root'))
  : [];

/** The streamer infos of a file ROOT 6 wrote (ROOT 5 computed checksums another way: none for those). */
async function infosOf(path: string): Promise<JsInfo[]> {
  const { openFile } = (await import('jsroot')) as {
    openFile(p: string): Promise<{ fVersion: number; fStreamerInfos: { arr: JsInfo[] } }>;
  };
  const f = await openFile(path);
  if (f.fVersion % 1000000 < 60000) return [];
  return f.fStreamerInfos.arr.filter((s) => s.fElements);
}

describe('streamer layouts match ROOT-written files', () => {
  it('finds the shared ROOT files', () => {
    expect(files.length, `no ROOT files under ${DATA}`).toBeGreaterThan(5);
  });

  it('every class of the table that a shared file describes has ROOT’s version, checksum and members', async () => {
    const compared = new Set<string>();
    for (const file of files) {
      for (const si of await infosOf(file)) {
        const def = CLASSES[si.fName];
        // Older ROOT versions of a class (TTree 19, TBranch 12) are other layouts: compare like with like.
        if (!def || def.version !== si.fClassVersion) continue;
        compared.add(si.fName);
        expect(checksumOf(si.fName), `${si.fName} checksum (${file})`).toBe(si.fCheckSum);
        const ours = def.elems.map((e) => e.name);
        expect(ours, `${si.fName} members`).toEqual(si.fElements!.arr.map((e) => e.fName));
        si.fElements!.arr.forEach((e, i) => {
          const mine = def.elems[i];
          if (mine.k === 'base') expect(e._typename, `${si.fName}.${e.fName}`).toBe('TStreamerBase');
          if (mine.k === 'base')
            expect(CLASSES[mine.name]?.version, `${si.fName} base ${e.fName} version`).toBe(e.fBaseVersion);
          if (mine.k === 'array') expect(mine.count, `${si.fName}.${e.fName} counter`).toBe(e.fCountName);
          if (mine.k === 'string') expect(e.fTypeName).toBe('TString');
          if ('cls' in mine) expect(e.fTypeName.replace(/\*$/, ''), `${si.fName}.${e.fName} type`).toBe(mine.cls);
        });
      }
    }
    // the tree classes all appear in ROOT 6.2x files
    for (const c of [
      'TTree',
      'TBranch',
      'TLeaf',
      'TLeafF',
      'TLeafI',
      'TLeafD',
      'TLeafL',
      'TLeafO',
      'TLeafB',
      'TLeafS',
      'TObjArray',
      'TList',
      'TNamed',
      'TObject',
      'TAttLine',
      'TAttFill',
      'TAttMarker',
      'ROOT::TIOFeatures',
    ])
      expect(compared, `no shared file describes ${c}`).toContain(c);
  });
});

describe('writer invariants', () => {
  it('a class without a layout is an internal error that asks for a report, not a plain Error', () => {
    let e: unknown;
    try {
      checksumOf('TNoSuchClass');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InternalError);
    expect((e as Error).message).toBe(
      'internal error: the ROOT writer has no layout for class TNoSuchClass — this is a bug in Ristretto; please report it with the command you ran and this message',
    );
  });
});
