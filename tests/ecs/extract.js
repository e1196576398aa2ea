// Regenerates ecs_fields.json from Elastic's own field definitions, the
// @elastic/ecs npm package (its generated EcsFlat):
//   npm pack @elastic/ecs@9.4.0 && tar xzf elastic-ecs-9.4.0.tgz
//   node extract.js package > ecs_fields.json
// Kept per field: its type, whether it is an array (normalize), its allowed
// values and, for event.category, the event.type values each allows.
const dir = process.argv[2] || 'package';
const { EcsFlat } = require(require('path').resolve(dir, 'build/commonjs/ecs_flat.js'));
const version = require(require('path').resolve(dir, 'package.json')).version;
const out = { source: '@elastic/ecs ' + version, fields: {} };
for (const [name, f] of Object.entries(EcsFlat).sort()) {
  const e = { type: f.type };
  if ((f.normalize || []).includes('array')) e.array = true;
  if (f.allowed_values) {
    e.allowed = f.allowed_values.map((v) => v.name);
    const types = {};
    for (const v of f.allowed_values) if (v.expected_event_types) types[v.name] = v.expected_event_types;
    if (Object.keys(types).length) e.expected_event_types = types;
  }
  out.fields[name] = e;
}
process.stdout.write(JSON.stringify(out, null, 0).replace(/\},"/g, '},\n"') + '\n');
