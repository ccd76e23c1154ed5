// Checks the CloudFormation templates in deploy/ against AWS's resource schemas (the CloudFormation registry, as
// shipped in @aws-cdk/aws-service-spec) and against themselves: resource types, property names and types, required
// properties, and every Ref, Fn::GetAtt, Fn::Sub variable and condition name. cfn-lint checks more; scripts/test.sh
// runs it as well where PyPI is reachable.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { parse } from 'yaml';

type SpecDb = ReturnType<typeof loadAwsServiceSpecSync>;
interface PropType {
  type: string;
  types?: PropType[];
  element?: PropType;
  reference?: { $ref: string };
}
type PropSpec = Record<string, { type: PropType; required?: boolean }>;

const TOP_LEVEL = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Rules',
]);
const PARAMETER_KEYS = new Set([
  'Type',
  'Default',
  'Description',
  'AllowedPattern',
  'AllowedValues',
  'ConstraintDescription',
  'MinLength',
  'MaxLength',
  'MinValue',
  'MaxValue',
  'NoEcho',
]);
const PARAMETER_TYPES = /^(String|Number|List<Number>|CommaDelimitedList|AWS::[\w:<>]+|List<AWS::[\w:]+>)$/;
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'Condition',
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

let spec: SpecDb | undefined;
function specDb(): SpecDb {
  spec ??= loadAwsServiceSpecSync();
  return spec;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const intrinsicKey = (v: unknown): string | null => {
  if (!isObject(v)) return null;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] && /^(Ref|Fn::\w+|Condition)$/.test(keys[0]) ? keys[0] : null;
};

/** Every problem found in one template (parsed YAML or JSON); empty when it passes. */
export function lintTemplate(template: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(template)) return ['the template is not a mapping'];
  for (const key of Object.keys(template)) if (!TOP_LEVEL.has(key)) problems.push(`unknown top-level section ${key}`);
  const parameters = isObject(template.Parameters) ? template.Parameters : {};
  const resources = isObject(template.Resources) ? template.Resources : {};
  const conditions = isObject(template.Conditions) ? template.Conditions : {};
  if (Object.keys(resources).length === 0) problems.push('Resources is missing or empty');

  for (const [name, p] of Object.entries(parameters)) {
    if (!isObject(p)) {
      problems.push(`Parameters.${name} is not a mapping`);
      continue;
    }
    for (const key of Object.keys(p))
      if (!PARAMETER_KEYS.has(key)) problems.push(`Parameters.${name}.${key} is unknown`);
    if (typeof p.Type !== 'string' || !PARAMETER_TYPES.test(p.Type))
      problems.push(`Parameters.${name}.Type is invalid`);
    if (typeof p.AllowedPattern === 'string' && p.Default !== undefined) {
      if (!new RegExp(p.AllowedPattern).test(typeof p.Default === 'string' ? p.Default : JSON.stringify(p.Default)))
        problems.push(`Parameters.${name}.Default does not match its AllowedPattern`);
    }
  }

  const db = specDb();
  const checkType = (t: PropType, v: unknown, path: string): void => {
    if (intrinsicKey(v)) return;
    switch (t.type) {
      case 'union': {
        const ok = (t.types ?? []).some((alt) => {
          const before = problems.length;
          checkType(alt, v, path);
          const fits = problems.length === before;
          problems.length = before;
          return fits;
        });
        if (!ok)
          problems.push(`${path}: ${JSON.stringify(v)} is none of ${(t.types ?? []).map((x) => x.type).join('|')}`);
        return;
      }
      case 'string':
        if (!['string', 'number', 'boolean'].includes(typeof v)) problems.push(`${path}: expected a string`);
        return;
      case 'integer':
      case 'number':
        if (!(typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))))
          problems.push(`${path}: expected ${t.type}`);
        return;
      case 'boolean':
        if (!(typeof v === 'boolean' || v === 'true' || v === 'false')) problems.push(`${path}: expected a boolean`);
        return;
      case 'array':
        if (!Array.isArray(v)) problems.push(`${path}: expected a list`);
        else if (t.element) v.forEach((e, i) => checkType(t.element as PropType, e, `${path}[${i}]`));
        return;
      case 'map':
        if (!isObject(v)) problems.push(`${path}: expected a mapping`);
        else if (t.element) for (const [k, e] of Object.entries(v)) checkType(t.element, e, `${path}.${k}`);
        return;
      case 'tag':
        if (!isObject(v) || !('Key' in v) || !('Value' in v)) problems.push(`${path}: expected {Key, Value}`);
        return;
      case 'ref': {
        const def = t.reference ? db.get('typeDefinition', t.reference.$ref) : undefined;
        if (def) checkProps(def.properties, v, path);
        return;
      }
      default:
        return;
    }
  };
  const checkProps = (props: PropSpec, value: unknown, path: string): void => {
    if (intrinsicKey(value)) return;
    if (!isObject(value)) {
      problems.push(`${path}: expected a mapping`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const prop = props[k];
      if (!prop) problems.push(`${path}.${k}: unknown property (valid: ${Object.keys(props).join(', ')})`);
      else checkType(prop.type, v, `${path}.${k}`);
    }
    for (const [k, p] of Object.entries(props))
      if (p.required && !(k in value)) problems.push(`${path}: ${k} is required`);
  };

  const attributes = new Map<string, Set<string>>();
  for (const [name, r] of Object.entries(resources)) {
    if (!isObject(r)) {
      problems.push(`Resources.${name} is not a mapping`);
      continue;
    }
    for (const key of Object.keys(r)) if (!RESOURCE_KEYS.has(key)) problems.push(`Resources.${name}.${key} is unknown`);
    const found = typeof r.Type === 'string' ? db.lookup('resource', 'cloudFormationType', 'equals', r.Type) : [];
    const resource = found[0];
    if (!resource) {
      problems.push(`Resources.${name}: unknown resource type ${String(r.Type)}`);
      continue;
    }
    attributes.set(name, new Set(Object.keys(resource.attributes)));
    checkProps(resource.properties, r.Properties ?? {}, `Resources.${name}.Properties`);
    if (r.Condition !== undefined && !(typeof r.Condition === 'string' && r.Condition in conditions))
      problems.push(`Resources.${name}.Condition names no condition`);
  }

  const known = (ref: string) => ref in parameters || ref in resources || PSEUDO.has(ref);
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) return v.forEach((e, i) => walk(e, `${path}[${i}]`));
    if (!isObject(v)) return;
    for (const [k, e] of Object.entries(v)) {
      if (k === 'Ref' && (typeof e !== 'string' || !known(e))) problems.push(`${path}: Ref to unknown ${String(e)}`);
      if (k === 'Fn::GetAtt') {
        const [res, attr] = Array.isArray(e) ? (e as unknown[]) : String(e).split('.');
        if (typeof res !== 'string' || !attributes.get(res)?.has(String(attr)))
          problems.push(`${path}: Fn::GetAtt ${String(res)}.${String(attr)} does not exist`);
      }
      if (k === 'Fn::Sub' && typeof e === 'string') {
        for (const [, variable = ''] of e.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [res, attr] = variable.split('.');
          const ok = attr ? attributes.get(res ?? '')?.has(attr) : known(variable);
          if (!ok) problems.push(`${path}: Fn::Sub variable \${${variable}} is unknown`);
        }
      }
      if ((k === 'Condition' || k === 'Fn::If') && path.length > 0) {
        const name = k === 'Fn::If' ? (Array.isArray(e) ? e[0] : null) : e;
        if (typeof name === 'string' && !(name in conditions))
          problems.push(`${path}: condition ${name} is not defined`);
      }
      walk(e, `${path}.${k}`);
    }
  };
  walk(template.Conditions, 'Conditions');
  walk(template.Resources, 'Resources');
  walk(template.Outputs, 'Outputs');
  for (const [name, o] of Object.entries(isObject(template.Outputs) ? template.Outputs : {})) {
    if (!isObject(o) || o.Value === undefined) problems.push(`Outputs.${name} has no Value`);
  }
  return problems;
}

export function readTemplate(file: string): unknown {
  return parse(readFileSync(file, 'utf8'), { strict: true, uniqueKeys: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(fileURLToPath(new URL('../deploy', import.meta.url)));
  let failed = 0;
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    let problems: string[];
    try {
      problems = lintTemplate(readTemplate(join(dir, file)));
    } catch (err) {
      problems = [(err as Error).message];
    }
    failed += problems.length;
    console.log(problems.length ? `deploy/${file}:\n  ${problems.join('\n  ')}` : `deploy/${file}: OK`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
