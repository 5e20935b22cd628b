// tests/grafana/validate.mjs — checks Grafana dashboard JSON files against Grafana's published
// schema, the npm package @grafana/schema (which ships TypeScript types, not JSON schema).
//
//   node validate.mjs DASHBOARD.json...     exit 0 when every file passes, 1 otherwise
//
// How: each dashboard becomes an object literal in a generated .ts file, typed as the
// package's `Dashboard` with every panel typed by its plugin's published options and field
// config (timeseries, stat, table panelcfg) and every target as a Prometheus query; `tsc
// --noEmit --strict` then rejects unknown properties (object-literal excess-property checks),
// wrong types and values outside the schema's enums. String enums are compared by value
// (Loose<T>) because JSON holds "list", not LegendDisplayMode.List. A few rules the types
// cannot say are checked here directly: uid set, schemaVersion = the package's current one,
// a `$datasource` variable of type datasource/prometheus, every panel on `${datasource}`,
// unique panel ids, and no panel outside the 24-column grid.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDashboard } from '@grafana/schema';

const here = path.dirname(fileURLToPath(import.meta.url));
const PANEL_TYPES = ['timeseries', 'stat', 'table'];

const PRELUDE = `
import type { Dashboard, Panel, FieldConfig, FieldConfigSource, DataQuery } from '@grafana/schema';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';

// A string enum accepts its values as plain strings (JSON has no enums).
type Loose<T> = T extends string ? \`\${T}\` : T extends Array<infer U> ? Array<Loose<U>> :
    T extends object ? { [K in keyof T]: Loose<T[K]> } : T;
// Grafana's Prometheus query model (the query editor's fields; the prometheus plugin's own
// package publishes it, @grafana/schema only its DataQuery base).
interface PromQuery {
    expr: string; legendFormat?: string; range?: boolean; instant?: boolean; exemplar?: boolean;
    format?: 'time_series' | 'table' | 'heatmap'; editorMode?: 'code' | 'builder';
    interval?: string; intervalFactor?: number;
}
type Target = Loose<DataQuery> & PromQuery;
type FieldConfigOf<C> = Omit<Loose<FieldConfigSource>, 'defaults'> & {
    defaults: Omit<Loose<FieldConfig>, 'custom'> & { custom?: Loose<C> };
};
type PanelOf<T extends string, O, C> = Omit<Loose<Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
    type: T; options: Loose<O>; fieldConfig: FieldConfigOf<C>; targets: Target[];
};
type AnyPanel = PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
    | PanelOf<'stat', Stat.Options, {}>
    | PanelOf<'table', Table.Options, Table.FieldConfig>;
type CheckedDashboard = Omit<Loose<Dashboard>, 'panels'> & { panels: AnyPanel[] };
`;

// checkRules(d): the rules the types cannot express; returns a list of problems.
function checkRules(d) {
    const bad = [];
    const want = defaultDashboard.schemaVersion;
    if (typeof d.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(d.uid)) bad.push('uid missing or invalid');
    if (d.schemaVersion !== want) bad.push(`schemaVersion ${d.schemaVersion}, current is ${want}`);
    const vars = d.templating?.list ?? [];
    const ds = vars.find((v) => v.name === 'datasource');
    if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus') bad.push('no $datasource variable of type prometheus');
    for (const v of vars.filter((x) => x.type === 'query')) {
        if (v.datasource?.uid !== '${datasource}') bad.push(`variable ${v.name} not on \${datasource}`);
    }
    const ids = new Set();
    for (const p of d.panels ?? []) {
        if (ids.has(p.id)) bad.push(`panel id ${p.id} twice`);
        ids.add(p.id);
        if (!PANEL_TYPES.includes(p.type)) bad.push(`panel ${p.id}: type ${p.type} not checked by this validator`);
        if (p.datasource?.uid !== '${datasource}') bad.push(`panel ${p.id} not on \${datasource}`);
        for (const t of p.targets ?? []) {
            if (t.datasource?.uid !== '${datasource}') bad.push(`panel ${p.id} target ${t.refId} not on \${datasource}`);
        }
        const g = p.gridPos;
        if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) bad.push(`panel ${p.id}: gridPos outside the grid`);
    }
    return bad;
}

function typeCheck(files, genDir) {
    const tsFiles = files.map((f, i) => {
        const out = path.join(genDir, `d${i}_${path.basename(f, '.json').replace(/\W/g, '_')}.ts`);
        const json = fs.readFileSync(f, 'utf8');
        fs.writeFileSync(out, `// generated from ${f}\n${PRELUDE}\nexport const dashboard: CheckedDashboard = ${json};\n`);
        return out;
    });
    const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext',
        '--moduleResolution', 'bundler', '--skipLibCheck', '--pretty', 'false', ...tsFiles];
    const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8' });
    return { ok: r.status === 0, out: (r.stdout || '') + (r.stderr || ''), tsFiles };
}

function main() {
    const files = process.argv.slice(2).map((f) => path.resolve(f));
    if (files.length === 0) {
        console.error('usage: node validate.mjs DASHBOARD.json...');
        process.exit(2);
    }
    const failed = new Set();
    for (const f of files) {
        let d;
        try {
            d = JSON.parse(fs.readFileSync(f, 'utf8'));
        } catch (e) {
            console.log(`FAIL ${f}: ${e.message}`);
            failed.add(f);
            continue;
        }
        const bad = checkRules(d);
        for (const b of bad) console.log(`FAIL ${f}: ${b}`);
        if (bad.length) failed.add(f);
    }
    // Generated sources live beside node_modules so that module resolution finds the package.
    const genDir = fs.mkdtempSync(path.join(here, '.gen-'));
    try {
        const { ok, out, tsFiles } = typeCheck(files, genDir);
        if (!ok) {
            const names = new Map(tsFiles.map((t, i) => [t, files[i]]));
            for (const line of out.split('\n').filter(Boolean)) {
                const m = line.match(/^(.*?\.ts)\((\d+),\d+\): (.*)$/);
                const src = m ? names.get(path.resolve(here, m[1])) : null;
                // the JSON starts on the generated file's last line: report JSON line numbers
                const base = PRELUDE.split('\n').length + 2;
                console.log(m && src ? `FAIL ${src}:${Number(m[2]) - base + 1}: ${m[3]}` : `tsc: ${line}`);
                failed.add(src || 'tsc');
            }
        }
    } finally {
        fs.rmSync(genDir, { recursive: true, force: true });
    }
    const passed = files.filter((f) => !failed.has(f)).length;
    console.log(`${passed} of ${files.length} dashboards pass @grafana/schema (schemaVersion ${defaultDashboard.schemaVersion})`);
    process.exit(failed.size ? 1 : 0);
}

main();
