#!/usr/bin/env node
// @ts-check
'use strict';
/*
 * Generates the TextMate injection grammars that colour SQL embedded in
 * JavaScript/TypeScript (syntaxes/sql-injection.*.tmLanguage.json).
 *
 * The four grammars differ only in their host: the scope suffix of the host
 * grammar (`ts`, `tsx`, `js`, `js.jsx`), whether TypeScript type arguments
 * may follow a tag, and which grammar `${…}` expressions are delegated to.
 * Writing them by hand would mean keeping four copies of the same regexes
 * in step, so they are generated from this one description.
 *
 *   node syntaxes/generate.js          # rewrite the JSON files
 *   node syntaxes/generate.js --check  # exit 1 if they are out of date
 *
 * test/grammar/grammar.test.ts runs the same check.
 *
 * What is recognised (identifiers may carry any receiver chain, `a.b?.c.`):
 *   sql`…`  SQL`…`  sql<T>`…`  sql.unsafe`…`  sql.type(x)`…`  Prisma.sql`…`
 *   x.$queryRaw`…`  x.$executeRaw`…`               (tagged templates)
 *   /* sql *\/ `…`  /* SQL *\/ '…'  /*sql*\/ "…"      (marker comment, the
 *                                                     literal may start on
 *                                                     the next line)
 *   x.query(`…`)  x.query<T>(`…`)  x.$queryRawUnsafe(`…`)  x.$executeRawUnsafe(`…`)
 *                 (first argument only, it may start on the next line)
 *
 * The SQL itself is tokenised by VS Code's built-in `source.sql` grammar.
 * A few of that grammar's rules span lines or run to the end of the line
 * (quoted strings, block and `--` comments, `/…/` "regexps", `[…]`, MySQL
 * `#` comments); inside a JS literal those would swallow the closing
 * backtick or quote, and they know nothing of `${…}`. For exactly those
 * constructs this grammar supplies its own rules, tried before
 * `source.sql`, which stop at the end of the host literal and let `${…}`
 * through. Everything else is left to `source.sql`.
 */

const fs = require('fs');
const path = require('path');

/** @typedef {{ id: string, displayName: string, hostScope: string, suffix: string, language: string, typeArguments: boolean, injectTo: string[] }} Host */

/** @type {Host[]} */
const HOSTS = [
  {
    id: 'ts',
    displayName: 'TypeScript',
    hostScope: 'source.ts',
    suffix: 'ts',
    language: 'typescript',
    typeArguments: true,
    // Vue (`source.vue` before language-tools renamed it to `text.html.vue`)
    // and Svelte embed `<script lang="ts">` as `source.ts`, so the selector
    // below matches there as well.
    injectTo: ['source.ts', 'source.vue', 'text.html.vue', 'source.svelte'],
  },
  {
    id: 'tsx',
    displayName: 'TypeScript React',
    hostScope: 'source.tsx',
    suffix: 'tsx',
    language: 'typescriptreact',
    typeArguments: true,
    injectTo: ['source.tsx'],
  },
  {
    id: 'js',
    displayName: 'JavaScript',
    hostScope: 'source.js',
    suffix: 'js',
    language: 'javascript',
    typeArguments: false,
    injectTo: ['source.js', 'source.vue', 'text.html.vue', 'source.svelte'],
  },
  {
    id: 'jsx',
    displayName: 'JavaScript React',
    hostScope: 'source.js.jsx',
    suffix: 'js.jsx',
    language: 'javascriptreact',
    typeArguments: false,
    injectTo: ['source.js.jsx'],
  },
];

/** Scope of the SQL text itself; package.json maps it to the `sql` language. */
const SQL_CONTENT = 'meta.embedded.block.sql';

const ID = '[_$[:alpha:]][_$[:alnum:]]*';
/** `a.b?.c.` – any receiver chain, possibly starting with an accessor (`(x).sql`). */
const RECEIVER = `((?:\\??\\.\\s*)?(?:${ID}\\s*\\??\\.\\s*)*)`;
/** One receiver segment at least: `.query(` needs something before the dot. */
const RECEIVER_REQUIRED = `((?:\\??\\.\\s*)(?:${ID}\\s*\\??\\.\\s*)*|(?:${ID}\\s*\\??\\.\\s*)+)`;
const NOT_AFTER_ID = '(?<![_$[:alnum:]])';
/** `<…>` with up to three levels of nesting: `sql<Array<Pick<User, "id">>>`. */
const TYPE_ARGS = '<(?:[^<>]|<(?:[^<>]|<[^<>]*>)*>)*>';
/** `(…)` with up to three levels of nesting, on one line: `sql.type(z.object({…}))`. */
const CALL_ARGS = '\\((?:[^()]|\\((?:[^()]|\\([^()]*\\))*\\))*\\)';
const SQL_TAGS = '(sql|SQL|\\$queryRaw|\\$executeRaw)';
const QUERY_METHODS = '(query|\\$queryRawUnsafe|\\$executeRawUnsafe)';
const SQL_MARKER = '((/\\*)\\s*(?i:sql)\\s*(\\*/))';

/** @param {Host} h */
function buildGrammar(h) {
  const s = h.suffix;
  const typeArgs = h.typeArguments ? `(?:\\s*(${TYPE_ARGS}))?` : '()';
  const expression = `${h.hostScope}#expression`;

  const receiver = { patterns: [{ include: '#receiver' }] };
  const typeArgCapture = { patterns: [{ include: `${h.hostScope}#type-arguments` }] };
  const templateBegin = { name: `string.template.${s} punctuation.definition.string.template.begin.${s}` };
  const templateEnd = { name: `string.template.${s} punctuation.definition.string.template.end.${s}` };

  /** The body shared by every backtick literal that holds SQL. */
  const templateBody = {
    end: '`',
    endCaptures: { 0: templateEnd },
    contentName: SQL_CONTENT,
    patterns: [{ include: '#sql-in-template' }],
  };

  /**
   * SQL rules for one kind of host literal.
   * @param {'template' | 'single' | 'double'} kind
   */
  function sqlIn(kind) {
    const quote = kind === 'template' ? '`' : kind === 'single' ? "'" : '"';
    // Where every multi-line SQL construct must give up: at the host
    // literal's closing delimiter, and for quoted host strings (which cannot
    // span lines) at the end of the line.
    const stop = kind === 'template' ? '(?=`)' : `(?=${quote})|$`;
    const inner = kind === 'template' ? [{ include: '#escape' }, { include: '#substitution' }] : [{ include: '#escape' }];
    /** @type {any[]} */
    const patterns = [{ include: '#escape' }];
    if (kind === 'template') patterns.push({ include: '#substitution' });
    if (kind !== 'single') {
      patterns.push({
        begin: "'",
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.sql' } },
        end: `'|${stop}`,
        endCaptures: { 0: { name: 'punctuation.definition.string.end.sql' } },
        name: 'string.quoted.single.sql',
        patterns: inner,
      });
    }
    if (kind !== 'double') {
      patterns.push({
        begin: '"',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.sql' } },
        end: `"|${stop}`,
        endCaptures: { 0: { name: 'punctuation.definition.string.end.sql' } },
        name: 'string.quoted.double.sql',
        patterns: inner,
      });
    }
    patterns.push(
      {
        begin: '/\\*',
        beginCaptures: { 0: { name: 'punctuation.definition.comment.sql' } },
        end: `\\*/|${stop}`,
        endCaptures: { 0: { name: 'punctuation.definition.comment.sql' } },
        name: 'comment.block.sql',
        patterns: inner,
      },
      {
        begin: '--',
        beginCaptures: { 0: { name: 'punctuation.definition.comment.sql' } },
        end: kind === 'template' ? '$|(?=`)' : `$|(?=${quote})`,
        name: 'comment.line.double-dash.sql',
        patterns: inner,
      },
      // source.sql would start a "regexp" at `/` and a line comment at `#`;
      // in PostgreSQL these are division and the #, #>, #>>, #- operators.
      { match: '/', name: 'keyword.operator.math.sql' },
      { match: '#(?:>>?|-)?', name: 'keyword.operator.sql' },
      // source.sql's `[…]` is a T-SQL quoted identifier that does not end
      // before `]`; PostgreSQL uses brackets for arrays, whose content is SQL.
      { match: '\\[', name: 'punctuation.definition.bracket.begin.sql' },
      { match: '\\]', name: 'punctuation.definition.bracket.end.sql' },
      // PostgreSQL positional parameters.
      { match: '\\$\\d+\\b', name: 'variable.parameter.positional.sql' },
    );
    if (kind !== 'template') {
      // A backtick inside a quoted host string is just a character; do not
      // let source.sql open a MySQL backtick identifier on it.
      patterns.push({ match: '`', name: 'string.quoted.other.backtick.sql' });
    }
    patterns.push({ include: 'source.sql' });
    return { patterns };
  }

  /** @param {'single' | 'double'} kind */
  function quotedLiteral(kind) {
    const q = kind === 'single' ? "'" : '"';
    const hostName = `string.quoted.${kind}.${s}`;
    return {
      begin: q,
      beginCaptures: { 0: { name: `${hostName} punctuation.definition.string.begin.${s}` } },
      end: `(${q})|$`,
      endCaptures: { 1: { name: `${hostName} punctuation.definition.string.end.${s}` } },
      contentName: SQL_CONTENT,
      patterns: [{ include: `#sql-in-${kind}` }],
    };
  }

  return {
    $comment: 'Generated by syntaxes/generate.js – edit that file, not this one.',
    name: `SQL in ${h.displayName}`,
    scopeName: `inline.sql-insight.${h.id}`,
    // Active in host code and inside `${…}` (also `${…}` nested in our own
    // SQL), but not in comments, in ordinary strings or in the SQL text.
    injectionSelector: `L:${h.hostScope} -comment -(string -meta.embedded) -(${SQL_CONTENT} -meta.template.expression)`,
    patterns: [{ include: '#marker-comment' }, { include: '#tagged-template' }, { include: '#query-call' }],
    repository: {
      'tagged-template': {
        patterns: [
          {
            // sql.unsafe`…`, sql.type(x)`…`, Prisma.sql.unsafe`…`
            begin: `${NOT_AFTER_ID}${RECEIVER}(sql|SQL)\\s*(\\??\\.)\\s*(${ID})(?:\\s*(${CALL_ARGS}))?${typeArgs}\\s*(\`)`,
            beginCaptures: {
              1: receiver,
              2: { name: `variable.other.object.${s}` },
              3: receiver,
              4: { name: `entity.name.function.tagged-template.${s}` },
              5: { patterns: [{ include: `${h.hostScope}#paren-expression` }] },
              6: typeArgCapture,
              7: templateBegin,
            },
            ...templateBody,
          },
          {
            // sql`…`, SQL`…`, sql<User>`…`, Prisma.sql`…`, tx.$queryRaw<T>`…`
            begin: `${NOT_AFTER_ID}${RECEIVER}${SQL_TAGS}${typeArgs}\\s*(\`)`,
            beginCaptures: {
              1: receiver,
              2: { name: `entity.name.function.tagged-template.${s}` },
              3: typeArgCapture,
              4: templateBegin,
            },
            ...templateBody,
          },
        ],
      },
      'marker-comment': {
        // /* sql */ followed by a literal, on the same line or the next one.
        begin: `${SQL_MARKER}(?=\\s*(?:[\`'"]|$))`,
        beginCaptures: {
          1: { name: `comment.block.${s}` },
          2: { name: `punctuation.definition.comment.${s}` },
          3: { name: `punctuation.definition.comment.${s}` },
        },
        // Done right after the literal, or at anything that is not one.
        end: '(?<=[`\'"])|(?=[^\\s`\'"])',
        patterns: [
          { begin: '`', beginCaptures: { 0: templateBegin }, ...templateBody },
          quotedLiteral('single'),
          quotedLiteral('double'),
        ],
      },
      'query-call': {
        // pool.query(`…`, values): the first argument is SQL when it is a
        // template literal (possibly on the next line); later arguments are
        // ordinary code.
        begin: `${NOT_AFTER_ID}(${RECEIVER_REQUIRED}${QUERY_METHODS})${typeArgs}\\s*(\\()(?=\\s*(?:\`|$))`,
        beginCaptures: {
          1: { name: `meta.function-call.${s}` },
          2: receiver,
          3: { name: `entity.name.function.${s}` },
          4: typeArgCapture,
          5: { name: `meta.brace.round.${s}` },
        },
        end: '\\)',
        endCaptures: { 0: { name: `meta.brace.round.${s}` } },
        patterns: [
          {
            // Entered once, right after `(` (\G); left after the first
            // template literal or at the first thing that is not one.
            begin: '\\G',
            end: '(?<=`)|(?=[^\\s`])',
            patterns: [{ begin: '`', beginCaptures: { 0: templateBegin }, ...templateBody }],
          },
          { include: expression },
        ],
      },
      'sql-in-template': sqlIn('template'),
      'sql-in-single': sqlIn('single'),
      'sql-in-double': sqlIn('double'),
      receiver: {
        // A receiver chain `a.b?.` as host tokens.
        patterns: [
          { match: '\\bthis\\b', name: `variable.language.this.${s}` },
          { match: ID, name: `variable.other.object.${s}` },
          { match: '\\?\\.', name: `punctuation.accessor.optional.${s}` },
          { match: '\\.', name: `punctuation.accessor.${s}` },
        ],
      },
      escape: {
        // \` and \${ must not end the SQL or open an expression.
        match: '\\\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|u\\{[0-9A-Fa-f]+\\}|.|$)',
        name: `constant.character.escape.${s}`,
      },
      substitution: {
        // Scoped exactly like the host grammar's own template expression.
        begin: '\\$\\{',
        beginCaptures: { 0: { name: `punctuation.definition.template-expression.begin.${s}` } },
        end: '\\}',
        endCaptures: { 0: { name: `punctuation.definition.template-expression.end.${s}` } },
        name: `meta.template.expression.${s}`,
        contentName: `meta.embedded.line.${s}`,
        patterns: [{ include: expression }],
      },
    },
  };
}

/** File name (in syntaxes/) → grammar object. */
function buildAll() {
  /** @type {Record<string, object>} */
  const out = {};
  for (const h of HOSTS) out[`sql-injection.${h.id}.tmLanguage.json`] = buildGrammar(h);
  return out;
}

/** The `contributes.grammars` entries that register the generated files. */
function contributions() {
  return HOSTS.map((h) => ({
    scopeName: `inline.sql-insight.${h.id}`,
    path: `./syntaxes/sql-injection.${h.id}.tmLanguage.json`,
    injectTo: h.injectTo,
    embeddedLanguages: { [SQL_CONTENT]: 'sql', [`meta.embedded.line.${h.suffix}`]: h.language },
  }));
}

/** @param {object} grammar */
function serialise(grammar) {
  return JSON.stringify(grammar, null, 2) + '\n';
}

module.exports = { HOSTS, SQL_CONTENT, buildAll, contributions, serialise };

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, grammar] of Object.entries(buildAll())) {
    const target = path.join(__dirname, file);
    const text = serialise(grammar);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (current === text) continue;
    if (check) {
      console.error(`${file} is out of date: run node syntaxes/generate.js`);
      stale++;
    } else {
      fs.writeFileSync(target, text);
      console.log(`wrote syntaxes/${file}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
