import * as assert from 'node:assert/strict';
import { splitStatements } from '../../server/src/core/split';

function pieces(text: string): string[] {
  return splitStatements(text).map((s) => text.slice(s.start, s.end));
}

describe('splitStatements', () => {
  it('splits on semicolons and trims whitespace and comments around statements', () => {
    assert.deepEqual(pieces('select 1;\n -- c\n select 2 ;  \n/* x */ select 3'), ['select 1', 'select 2', 'select 3']);
  });

  it('ignores semicolons inside strings, identifiers, comments and dollar quotes', () => {
    const sql = `select ';' , "a;b", E'\\';', $$;$$, $fn$ ; $fn$ /* ; /* nested ; */ ; */ from t; select 2`;
    assert.deepEqual(pieces(sql), [sql.slice(0, sql.indexOf(' from t') + 7), 'select 2']);
  });

  it('keeps $1 parameters and a$b identifiers apart from dollar quotes', () => {
    assert.deepEqual(pieces('select $1, a$b from t where x = $2; select 1'), ['select $1, a$b from t where x = $2', 'select 1']);
  });

  it('keeps a BEGIN ATOMIC function body (with CASE … END) in one statement', () => {
    const fn = 'create function f() returns int language sql begin atomic select case when true then 1 end; select 2; end';
    assert.deepEqual(pieces(`${fn}; select 3`), [fn, 'select 3']);
  });

  it('runs an unterminated string or comment to the end of the text', () => {
    assert.deepEqual(pieces("select 1; select 'abc; select 2"), ['select 1', "select 'abc; select 2"]);
    assert.deepEqual(pieces('select 1; /* open ; select 2'), ['select 1']);
  });

  it('returns nothing for empty and comment-only text', () => {
    assert.deepEqual(pieces(''), []);
    assert.deepEqual(pieces(' ;; -- only\n/* c */ ;'), []);
  });

  it('handles non-ASCII text with UTF-16 offsets', () => {
    const sql = "select 'é😀'; select 'ü' from t";
    assert.deepEqual(pieces(sql), ["select 'é😀'", "select 'ü' from t"]);
  });
});
