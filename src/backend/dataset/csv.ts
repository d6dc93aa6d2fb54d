/**
 * A small RFC 4180 reader for the metadata files of HAM10000 and ISIC 2018. It copes with what those
 * files look like in the wild: a UTF-8 BOM, CRLF / LF / lone-CR line ends, quoted fields holding
 * delimiters, quotes or line breaks, comma or tab delimiters (Harvard Dataverse serves tab-separated
 * `.tab` files, sometimes without an extension), extra columns, any column order, blank trailing lines.
 */

export type Delimiter = ',' | '\t' | ';';

/** One record as parsed, with the 1-based line on which it starts (for messages a person can follow). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Splits `text` into records. Lenient where RFC 4180 is silent: a quote inside an unquoted field is
 * kept literally, text after a closing quote is appended, an unterminated quote runs to the end.
 */
export function parseCsv(text: string, delimiter: Delimiter = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  const src = stripBom(text);
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let fieldStart = true;
  const endField = (): void => {
    fields.push(field);
    field = '';
    fieldStart = true;
  };
  const endRecord = (): void => {
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        if (c === '\n' || (c === '\r' && src[i + 1] !== '\n')) line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && fieldStart) {
      inQuotes = true;
      fieldStart = false;
    } else if (c === delimiter) {
      endField();
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStart = false;
    }
  }
  // A file that does not end with a line break still has a last record.
  if (field !== '' || fields.length > 0 || inQuotes || !fieldStart) endRecord();
  return records;
}

/** Picks the delimiter that occurs most often (outside quotes) in the header line; comma on a tie. */
export function sniffDelimiter(text: string): Delimiter {
  const src = stripBom(text);
  const counts: Record<Delimiter, number> = { ',': 0, '\t': 0, ';': 0 };
  let inQuotes = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === '\n' || c === '\r')) break;
    else if (!inQuotes && (c === ',' || c === '\t' || c === ';')) counts[c]++;
  }
  let best: Delimiter = ',';
  for (const d of ['\t', ';'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/** A table read by header name: `get('image_id')` works whatever the column order or case. */
export interface CsvTable {
  delimiter: Delimiter;
  /** Header names as written (trimmed). */
  header: string[];
  rows: CsvRow[];
}

export interface CsvRow {
  line: number;
  /** The trimmed value of the named column (case-insensitive), '' when the row is short, undefined when the column does not exist. */
  get(column: string): string | undefined;
}

export function readCsvTable(text: string, delimiter: Delimiter = sniffDelimiter(text)): CsvTable {
  const records = parseCsv(text, delimiter);
  const headerRecord = records.find((r) => !isBlank(r.fields));
  if (!headerRecord) return { delimiter, header: [], rows: [] };
  const header = headerRecord.fields.map((h) => h.trim());
  const columnIndex = new Map<string, number>();
  header.forEach((name, i) => {
    const key = name.toLowerCase();
    if (!columnIndex.has(key)) columnIndex.set(key, i);
  });
  const rows: CsvRow[] = [];
  for (const record of records) {
    if (record === headerRecord || record.line < headerRecord.line || isBlank(record.fields)) continue;
    const { fields, line } = record;
    rows.push({
      line,
      get(column: string): string | undefined {
        const i = columnIndex.get(column.toLowerCase());
        return i === undefined ? undefined : (fields[i] ?? '').trim();
      },
    });
  }
  return { delimiter, header, rows };
}

export function hasColumn(table: CsvTable, column: string): boolean {
  return table.header.some((h) => h.toLowerCase() === column.toLowerCase());
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isBlank(fields: string[]): boolean {
  return fields.every((f) => f.trim() === '');
}
