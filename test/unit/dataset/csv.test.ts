import assert from 'node:assert/strict';
import { parseCsv, readCsvTable, sniffDelimiter } from '../../../src/backend/dataset/csv';

const fields = (text: string, d: ',' | '\t' = ','): string[][] => parseCsv(text, d).map((r) => r.fields);

describe('csv', () => {
  it('splits plain records on LF, CRLF and lone CR', () => {
    assert.deepEqual(fields('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(fields('a,b\r\n1,2\r\n'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(fields('a,b\r1,2\r'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(fields('a,b\r\n1,2'), [['a', 'b'], ['1', '2']], 'no final line break');
  });

  it('strips a UTF-8 BOM so the first header name is clean', () => {
    const t = readCsvTable('\ufefflesion_id,image_id\r\nHAM_1,ISIC_1\r\n');
    assert.deepEqual(t.header, ['lesion_id', 'image_id']);
    assert.equal(t.rows[0]!.get('lesion_id'), 'HAM_1');
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    assert.deepEqual(fields('a,"b, c","say ""hi""","two\nlines",e\n'), [['a', 'b, c', 'say "hi"', 'two\nlines', 'e']]);
    assert.deepEqual(fields('"x\r\ny",z\r\n'), [['x\r\ny', 'z']]);
    assert.deepEqual(fields('"",""\n'), [['', '']], 'empty quoted fields');
  });

  it('counts lines so records report where they start, even after multi-line fields', () => {
    const records = parseCsv('h1,h2\n"a\nb",1\nc,2\n', ',');
    assert.deepEqual(
      records.map((r) => r.line),
      [1, 2, 4],
    );
  });

  it('is lenient where RFC 4180 is silent', () => {
    assert.deepEqual(fields('ab"c,d\n'), [['ab"c', 'd']], 'a quote inside an unquoted field is literal');
    assert.deepEqual(fields('"ab"c,d\n'), [['abc', 'd']], 'text after a closing quote is kept');
    assert.deepEqual(fields('"unterminated,x'), [['unterminated,x']]);
  });

  it('parses tab-separated text, with quoted fields as Dataverse writes them', () => {
    assert.deepEqual(fields('"lesion_id"\t"image_id"\n"HAM_1"\t"ISIC, 1"\n', '\t'), [['lesion_id', 'image_id'], ['HAM_1', 'ISIC, 1']]);
  });

  it('sniffs the delimiter from the header line, ignoring delimiters inside quotes', () => {
    assert.equal(sniffDelimiter('lesion_id\timage_id\tdx\n1,2,3,4,5\n'), '\t');
    assert.equal(sniffDelimiter('lesion_id,image_id,dx\n'), ',');
    assert.equal(sniffDelimiter('"a,b,c,d"\t"e"\t"f"\n'), '\t');
    assert.equal(sniffDelimiter('\ufeffa;b;c\n'), ';');
    assert.equal(sniffDelimiter('single\n'), ',');
  });

  it('reads columns by header name in any order and any case, ignoring extra columns', () => {
    const t = readCsvTable('dx,Extra,IMAGE_ID,lesion_id,more\nmel,x,ISIC_1,HAM_1,y\n');
    const row = t.rows[0]!;
    assert.equal(row.get('image_id'), 'ISIC_1');
    assert.equal(row.get('Lesion_ID'), 'HAM_1');
    assert.equal(row.get('dx'), 'mel');
    assert.equal(row.get('missing'), undefined);
  });

  it('gives short rows empty values and trims whitespace around values', () => {
    const t = readCsvTable('a,b,c\n 1 ,2\n');
    assert.equal(t.rows[0]!.get('a'), '1');
    assert.equal(t.rows[0]!.get('c'), '');
  });

  it('skips blank lines, trailing ones included, and reports row lines', () => {
    const t = readCsvTable('\n\na,b\n1,2\n\n3,4\n\n\r\n,\n');
    assert.deepEqual(
      t.rows.map((r) => [r.line, r.get('a')]),
      [
        [4, '1'],
        [6, '3'],
      ],
    );
  });

  it('sniffs tab by default in readCsvTable', () => {
    const t = readCsvTable('lesion_id\timage_id\tdx\nHAM_1\tISIC_1\tnv\n');
    assert.equal(t.delimiter, '\t');
    assert.equal(t.rows[0]!.get('dx'), 'nv');
  });

  it('returns an empty table for empty text', () => {
    assert.deepEqual(readCsvTable('').rows, []);
    assert.deepEqual(readCsvTable('\ufeff\r\n').header, []);
  });
});
