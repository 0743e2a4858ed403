/**
 * Derived-metric definitions as libpcp 6.0.3 registers them: pmRegisterDerived's name checks
 * and PMID numbering, pmLoadDerivedConfig's file format and diagnostics, and the search that
 * pminfo does (PCP_DERIVED_CONFIG, the global directory, -c). Upstream:
 * src/libpcp/src/derive_parser.y.in (registerderived, __dminit, __dminit_configfile);
 * docs/pcp.md#derived-configuration.
 */
import fs from 'node:fs';
import {
	newParserSession, parseDerivedExpression, type DerivedNode, type ParseResult, type ParserSession,
} from './parser.js';
import {DYNAMIC_PMID_DOMAIN, makePmid} from './types.js';

export type DerivedDefinition = {
	name: string;
	/** The expression text as registered. */
	expr: string;
	tree: DerivedNode;
	/** 511.cluster.item, in registration order (docs/pcp.md#derived-pmids). */
	pmid: number;
	/** event.flags and event.missed, registered by libpcp itself. */
	anon: boolean;
	oneline?: string;
	helptext?: string;
};

export type DerivedRegistry = {
	/** Every registered metric, in registration order. */
	metrics: DerivedDefinition[];
	/** The same by name (registerDerived keeps it; the loader looks names up for every attribute line). */
	byName: Map<string, DerivedDefinition>;
	/** pmprintf() output of the loading, in order, each line ending in "\n": pminfo prints it on stderr. */
	diagnostics: string[];
	/** libpcp's static lexer state (see ParserSession). */
	session: ParserSession;
	/** Next PMID's cluster and item. */
	cluster: number;
	item: number;
	/** How registerDerived checks an expression (default: parses it; see ExpressionCheck). */
	check?: ExpressionCheck;
};

/**
 * What registerDerived asks of an expression: libpcp's parse, with `session` as libpcp's lexer
 * state. A check may answer `{ok: true}` without a tree when it knows the parse succeeds and
 * leaves `session` as it was (lazy-check.ts); the tree is then parsed on first use, from a new
 * session, which is the state it was registered in.
 */
export type ExpressionCheck = (expr: string, session: ParserSession) => ParseResult | {ok: true; tree?: undefined};

/** A config file larger than this is refused (ENOMEM-like), so a runaway file cannot exhaust memory. */
export const maxConfigBytes = 1024 * 1024;
/** Files taken from one path (directories are walked recursively, as libpcp does). */
export const maxConfigFiles = 1000;

/** libpcp's checkname(): components start with a letter, then letters, digits, '_'. */
export function checkName(name: string): boolean {
	return /^[A-Za-z]\w*(?:\.[A-Za-z]\w*)*$/.test(name) && !name.includes('..');
}

/** The registry every libpcp client starts with: event.flags (511.0.1) and event.missed (511.0.2). */
export function newRegistry(check?: ExpressionCheck): DerivedRegistry {
	const registry: DerivedRegistry = {
		metrics: [], byName: new Map(), diagnostics: [], session: newParserSession(), cluster: 0, item: 0, ...(check ? {check} : {}),
	};
	registerDerived(registry, 'event.flags', 'anon(PM_TYPE_U32)', true);
	registerDerived(registry, 'event.missed', 'anon(PM_TYPE_U32)', true);
	registry.metrics[0]!.oneline = 'Flags for event records';
	registry.metrics[0]!.helptext = 'An anonymous derived metric that is used to encode the event flags\nassociated with event records.   See pmUnpackEventRecords(3).';
	registry.metrics[1]!.oneline = 'Count of missed event records';
	registry.metrics[1]!.helptext = 'An anonymous derived metric that is used to encode the number of\nevent records missed because either the PMDA could not keep up\nor the PMAPI client did not collect the event records fast\nenough.  See pmUnpackEventRecords(3).';
	return registry;
}

export type RegisterError = {offset: number; message?: string};

/**
 * pmRegisterDerived(): undefined on success, else where the error is (an offset into `expr`,
 * 0 for a duplicate name) and libpcp's message (pmDerivedErrStr), if any.
 */
export function registerDerived(registry: DerivedRegistry, name: string, expr: string, anon = false): RegisterError | undefined {
	if (registry.byName.has(name)) {
		return {offset: 0, message: 'Duplicate global derived metric name'};
	}

	const parsed = (registry.check ?? parseDerivedExpression)(expr, registry.session);
	if (!parsed.ok) {
		return parsed.message === undefined ? {offset: parsed.offset} : {offset: parsed.offset, message: parsed.message};
	}

	// The first metric is 511.0.1; then item++ up to 1023, then the next cluster from item 1.
	if (registry.metrics.length === 0) {
		registry.cluster = 0;
		registry.item = 1;
	} else if (registry.item < 1023) {
		registry.item++;
	} else if (registry.cluster < 2047) {
		registry.cluster++;
		registry.item = 1;
	} else {
		return {offset: 0, message: 'global PMID space exhausted'};
	}

	const pmid = makePmid(DYNAMIC_PMID_DOMAIN, registry.cluster, registry.item);
	let metric: DerivedDefinition;
	if (parsed.tree) {
		metric = {
			name, expr, tree: parsed.tree, pmid, anon,
		};
	} else {
		let tree: DerivedNode | undefined;
		metric = {
			name,
			expr,
			get tree() {
				tree ??= treeOf(name, expr);
				return tree;
			},
			pmid,
			anon,
		};
	}

	registry.metrics.push(metric);
	registry.byName.set(name, metric);
	return undefined;
}

/** The tree of an expression a check passed without parsing (ExpressionCheck). */
function treeOf(name: string, expr: string): DerivedNode {
	const parsed = parseDerivedExpression(expr, newParserSession());
	if (!parsed.ok) {
		throw new Error(`secmon: derived metric ${name} was registered as valid but does not parse (lazy-check.ts)`);
	}

	return parsed.tree;
}

/** isspace() in the C locale; compared, not matched with a RegExp: it runs for every character of the attribute values. */
const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

function trimStart(text: string): string {
	let i = 0;
	while (isBlank(text[i])) {
		i++;
	}

	return text.slice(i);
}

function trimEnd(text: string): string {
	let i = text.length;
	while (i > 0 && isBlank(text[i - 1])) {
		i--;
	}

	return text.slice(0, i);
}

type QuotedScan = {
	/** The value so far, in pieces. */
	parts: string[];
	/** A backslash was the last character seen: the next one is taken as it is ('\n' is dropped). */
	escaped: boolean;
	/** Newlines read (a value's own and the escaped ones). */
	newlines: number;
};

/**
 * Reads a quoted attribute value in `text` from `from` up to the closing `delim`, adding to
 * `scan`: returns the index after the closing quote, or -1 if `text` ends first. It jumps from
 * one backslash or quote to the next and copies the text between them as slices.
 */
function scanQuoted(text: string, from: number, delim: string, scan: QuotedScan): number {
	let i = from;
	let quote = -2;
	let backslash = -2;
	while (i < text.length) {
		if (scan.escaped) {
			scan.escaped = false;
			if (text.charCodeAt(i) === 10) {
				scan.newlines++;
			} else {
				scan.parts.push(text[i]!);
			}

			i++;
			continue;
		}

		if (quote !== -1 && quote < i) {
			quote = text.indexOf(delim, i);
		}

		if (backslash !== -1 && backslash < i) {
			backslash = text.indexOf('\\', i);
		}

		const stop = backslash !== -1 && (quote === -1 || backslash < quote) ? backslash : quote;
		const piece = text.slice(i, stop === -1 ? text.length : stop);
		for (let newline = piece.indexOf('\n'); newline !== -1; newline = piece.indexOf('\n', newline + 1)) {
			scan.newlines++;
		}

		scan.parts.push(piece);
		if (stop === -1) {
			return -1;
		}

		if (stop === quote) {
			return stop + 1;
		}

		scan.escaped = true;
		i = stop + 1;
	}

	return -1;
}

/**
 * __dminit_configfile() on the text of one file: returns how many metrics it registered.
 * Lines are only processed at their '\n' (a last line without one is ignored, as upstream);
 * `#` comments only in column 1; attribute values in quotes may span lines.
 */
export function loadConfigText(registry: DerivedRegistry, fileName: string, text: string): number {
	const say = (line: string) => registry.diagnostics.push(line);
	let count = 0;
	let lineno = 1;
	let pos = 0;
	while (pos < text.length) {
		const newline = text.indexOf('\n', pos);
		if (newline === -1) {
			break;
		}

		const buf = text.slice(pos, newline);
		pos = newline + 1;
		if (buf === '' || buf.startsWith('#')) {
			lineno++;
			continue;
		}

		const eq = buf.indexOf('=');
		if (eq === -1) {
			say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: missing \`\`='' after derived metric name\n${buf}\n`);
			lineno++;
			continue;
		}

		const head = buf.slice(0, eq);
		const lp = head.indexOf('(');
		const rp = head.indexOf(')');
		const name = trimStart(trimEnd(lp === -1 ? head : head.slice(0, lp)));
		if (name === '') {
			say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: derived metric name missing\n${buf}\n`);
		} else if (!checkName(name)) {
			say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: illegal derived metric name (${name})\n`);
		} else if (lp >= 0 && rp === -1) {
			say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: missing ')' after attribute\n${buf}\n`);
		} else if (rp >= 0 && lp === -1) {
			say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: missing '(' before attribute\n${buf}\n`);
		} else if (lp === -1) {
			const rest = buf.slice(eq + 1);
			const expr = trimStart(rest);
			if (expr === '') {
				say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: expression missing\n${buf}\n`);
			} else {
				const error = registerDerived(registry, name, expr);
				if (error) {
					// The caret line keeps blanks, turns other characters into spaces, '^' at the error.
					const at = rest.length - expr.length + error.offset;
					const caret = [...rest].map((c, i) => (i === at ? '^' : (isBlank(c) ? c : ' '))).join('');
					say(`[${fileName}:${lineno}] Error: pmRegisterDerived(${name}, ...) syntax error\n${rest}\n${caret}\n${error.message === undefined ? '' : `${error.message}\n`}`);
				} else {
					count++;
				}
			}
		} else {
			// name(attr) = value
			const attr = trimStart(trimEnd(head.slice(lp + 1, rp)));
			if (attr === '') {
				say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: attribute name missing\n${buf}\n`);
				lineno++;
				continue;
			}

			let vp = trimStart(buf.slice(eq + 1));
			let delim = '';
			if (vp.startsWith('"') || vp.startsWith('\'')) {
				delim = vp[0]!;
				vp = vp.slice(1);
			}

			if (vp === '') {
				say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: attribute value missing\n${buf}\n`);
				lineno++;
				continue;
			}

			let value: string | undefined = vp;
			if (delim !== '') {
				// Quoted: "\x" is x, a backslash before a newline drops both, and the value goes on
				// over the following lines until the closing quote (scanQuoted).
				const quoted: QuotedScan = {
					parts: [], escaped: false, newlines: 0,
				};
				// The rest of this line, then its newline, then the following lines.
				let close = scanQuoted(vp, 0, delim, quoted);
				let extraLines = 0;
				if (close === -1) {
					extraLines = 1;
					if (quoted.escaped) {
						quoted.escaped = false;
					} else {
						quoted.parts.push('\n');
					}

					close = scanQuoted(text, pos, delim, quoted);
					extraLines += quoted.newlines;
					pos = close === -1 ? text.length : close;
				}

				if (extraLines > 1) {
					lineno += extraLines - 1;
				}

				if (close === -1) {
					say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: missing termination (${delim}) for value\n`);
					value = undefined;
				} else if (extraLines === 0) {
					const extra = trimStart(vp.slice(close));
					if (extra !== '') {
						say(`[${fileName}:${lineno}] Warning: pmLoadDerivedConfig: extra text (${extra}) after attribute value will be ignored\n`);
					}

					value = quoted.parts.join('');
				} else {
					// The rest of the closing line; upstream skips its first character unseen.
					const end = text.indexOf('\n', pos);
					const tail = end === -1 ? text.slice(pos) : text.slice(pos, end);
					pos = end === -1 ? text.length : end + 1;
					const extra = trimStart(tail.slice(1));
					if (extra !== '') {
						say(`[${fileName}:${lineno}] Warning: pmLoadDerivedConfig: extra text (${extra}) after attribute value will be ignored\n`);
					}

					value = quoted.parts.join('');
				}
			}

			if (value !== undefined) {
				const metric = registry.byName.get(name);
				let problem: string | undefined;
				if (!metric) {
					problem = `cannot set attribute, derived metric (${name}) not defined`;
				} else if (attr === 'oneline') {
					if (metric.oneline === undefined) {
						metric.oneline = value;
					} else {
						problem = `duplicate value for attribute (${attr}) of metric (${name})`;
					}
				} else if (attr === 'helptext') {
					if (metric.helptext === undefined) {
						metric.helptext = value;
					} else {
						problem = `duplicate value for attribute (${attr}) of metric (${name})`;
					}
				} else {
					problem = `attribute (${attr}) is unknown for metric (${name})`;
				}

				if (problem) {
					say(`[${fileName}:${lineno}] Error: pmLoadDerivedConfig: ${problem}\n${buf}\n`);
				}
			}
		}

		lineno++;
	}

	return count;
}

/** What a loader reads files with; tests pass their own. */
export type ConfigFileSystem = {
	/** 'file', 'directory', 'other', or an errno-style error code ('ENOENT'). */
	kind(file: string): 'file' | 'directory' | 'other' | {code: string};
	/** Directory entries in readdir(3) order (libpcp does not sort them). */
	entries(dir: string): string[];
	read(file: string): string;
};

export const nodeConfigFileSystem: ConfigFileSystem = {
	kind(file) {
		try {
			const info = fs.statSync(file);
			return info.isFile() ? 'file' : (info.isDirectory() ? 'directory' : 'other');
		} catch (error) {
			return {code: (error as NodeJS.ErrnoException).code ?? 'EIO'};
		}
	},
	entries(dir) {
		// opendir/readSync walks getdents order like readdir(3); readdirSync would sort.
		const handle = fs.opendirSync(dir);
		const names: string[] = [];
		try {
			for (let entry = handle.readSync(); entry !== null && names.length < maxConfigFiles; entry = handle.readSync()) {
				names.push(entry.name);
			}
		} finally {
			handle.closeSync();
		}

		return names;
	},
	read(file) {
		const descriptor = fs.openSync(file, 'r');
		try {
			const {size} = fs.fstatSync(descriptor);
			if (size > maxConfigBytes) {
				const error = new Error(`${file}: larger than ${maxConfigBytes} bytes`) as NodeJS.ErrnoException;
				error.code = 'EFBIG';
				throw error;
			}

			const buffer = Buffer.alloc(size);
			const read = fs.readSync(descriptor, buffer, 0, size, 0);
			// UTF-8, as secmon prints text; libpcp counts bytes, which differs only for a caret
			// under an expression with non-ASCII characters.
			return buffer.subarray(0, read).toString('utf8');
		} finally {
			fs.closeSync(descriptor);
		}
	},
};

/** strerror texts for the errors a path component can give (pmErrStr of -errno). */
const errnoText: Record<string, string> = {
	ENOENT: 'No such file or directory',
	EACCES: 'Permission denied',
	ENOTDIR: 'Not a directory',
	EFBIG: 'File too large',
	ELOOP: 'Too many levels of symbolic links',
	EIO: 'Input/output error',
};

export function errnoMessage(code: string): string {
	return errnoText[code] ?? code;
}

/**
 * __dminit_parse(): each ':'-separated component, a file or (recursively) a directory. With
 * `recover` (the global configuration) failures are ignored; without it (pmLoadDerivedConfig,
 * pminfo -c) the first failure stops the walk and is returned as an errno code.
 */
export function loadDerivedPath(registry: DerivedRegistry, spec: string, recover: boolean, fileSystem: ConfigFileSystem = nodeConfigFileSystem): {count: number; error?: string} {
	let count = 0;
	let files = 0;
	const component = (name: string): string | undefined => {
		const kind = fileSystem.kind(name);
		if (typeof kind === 'object') {
			return kind.code;
		}

		if (kind === 'file') {
			if (++files > maxConfigFiles) {
				return 'EFBIG';
			}

			let text: string;
			try {
				text = fileSystem.read(name);
			} catch (error) {
				return (error as NodeJS.ErrnoException).code ?? 'EIO';
			}

			count += loadConfigText(registry, name, text);
			return undefined;
		}

		if (kind === 'directory') {
			let entries: string[];
			try {
				entries = fileSystem.entries(name);
			} catch (error) {
				return (error as NodeJS.ErrnoException).code ?? 'EIO';
			}

			for (const entry of entries) {
				if (entry === '.' || entry === '..') {
					continue;
				}

				const error = component(`${name}/${entry}`);
				if (error !== undefined && !recover) {
					return error;
				}
			}
		}

		return undefined;
	};

	// Every piece before a ':' counts, even an empty one (stat("") fails); an empty last one does not.
	const pieces = spec.split(':');
	if (pieces.at(-1) === '') {
		pieces.pop();
	}

	for (const name of pieces) {
		const error = component(name);
		if (error !== undefined && !recover) {
			return {count, error};
		}
	}

	return {count};
}

export type DerivedLoadOptions = {
	/** The environment (PCP_DERIVED_CONFIG, PCP_VAR_DIR). */
	env: Record<string, string | undefined>;
	/** pminfo's -c/--derived arguments, in order. */
	extra?: string[];
	/** Program name for the -c error line. */
	program?: string;
	fileSystem?: ConfigFileSystem;
	/** The registry's expression check (default: parse every expression). */
	check?: ExpressionCheck;
};

/** $PCP_VAR_DIR/config/derived (Debian: /var/lib/pcp/config/derived, links into /etc/pcp/derived). */
export function globalDerivedDirectory(env: Record<string, string | undefined>): string {
	return `${env['PCP_VAR_DIR'] ?? '/var/lib/pcp'}/config/derived`;
}

/**
 * What pminfo has registered before it talks to pmcd: the anon event metrics, then the global
 * configuration (PCP_DERIVED_CONFIG if set, "" meaning none; else the global directory if it
 * exists), then each -c argument (a failing one adds "pminfo: derived configuration(s) error: …").
 */
export function loadDerivedMetrics(options: DerivedLoadOptions): DerivedRegistry {
	const registry = newRegistry(options.check);
	const fileSystem = options.fileSystem ?? nodeConfigFileSystem;
	let configPath = options.env['PCP_DERIVED_CONFIG'];
	if (configPath === undefined) {
		const global = globalDerivedDirectory(options.env);
		const kind = fileSystem.kind(global);
		configPath = typeof kind === 'object' ? undefined : global;
	}

	if (configPath) {
		loadDerivedPath(registry, configPath, true, fileSystem);
	}

	for (const spec of options.extra ?? []) {
		const {error} = loadDerivedPath(registry, spec, false, fileSystem);
		if (error !== undefined) {
			registry.diagnostics.push(`${options.program ?? 'pminfo'}: derived configuration(s) error: ${errnoMessage(error)}\n`);
		}
	}

	return registry;
}
