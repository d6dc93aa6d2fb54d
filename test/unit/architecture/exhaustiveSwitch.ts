/**
 * Finds `switch` statements over a closed union (every member a literal: a protocol message's `type`, a
 * job's `command`, a model name…) that do not end in `default: assertNever(…)`. Such a switch compiles
 * today and silently ignores the member someone adds tomorrow; with assertNever the compiler refuses it.
 */
import path from 'node:path';
import ts from 'typescript';

export interface SwitchFinding {
  file: string;
  line: number;
  discriminant: string;
  problem: string;
}

/** Loads a tsconfig.json as a Program (with a type checker). */
export function programFor(tsconfig: string): ts.Program {
  const read = ts.readConfigFile(tsconfig, (f) => ts.sys.readFile(f));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(tsconfig));
  return ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
}

function isClosedUnion(type: ts.Type): boolean {
  if (!type.isUnion()) return false;
  return type.types.every((t) => (t.flags & (ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.EnumLiteral)) !== 0);
}

function callsAssertNever(node: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'assertNever') found = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** Every switch over a closed union in the program's files under `root` that lacks a final `default: assertNever(…)`. */
export function switchesWithoutAssertNever(program: ts.Program, root: string): SwitchFinding[] {
  const checker = program.getTypeChecker();
  const findings: SwitchFinding[] = [];
  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile || !path.resolve(source.fileName).startsWith(path.resolve(root) + path.sep)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isSwitchStatement(node) && isClosedUnion(checker.getTypeAtLocation(node.expression))) {
        const clauses = node.caseBlock.clauses;
        const last = clauses[clauses.length - 1];
        const problem = !last || !ts.isDefaultClause(last) ? 'has no default clause' : !callsAssertNever(last) ? 'its default clause does not call assertNever' : undefined;
        if (problem) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          findings.push({ file: source.fileName, line: line + 1, discriminant: node.expression.getText(source), problem });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return findings;
}
