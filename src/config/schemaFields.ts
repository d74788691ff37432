/**
 * The field names a zod schema accepts at a path, for "did you mean" on an unknown field.
 */
import type { ZodType } from 'zod';

type Path = readonly (string | number)[];

/** The zod definition parts the walk below reads (zod 4 keeps them on `_zod.def`). */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, ZodType>;
  readonly innerType?: ZodType;
  readonly in?: ZodType;
  readonly element?: ZodType;
  readonly valueType?: ZodType;
  readonly options?: readonly ZodType[];
}

/** The field names an object schema at `path` inside `schema` accepts (for "did you mean"). */
export function fieldsAt(schema: ZodType, path: Path): string[] {
  const names = new Set<string>();
  const walk = (node: ZodType | undefined, rest: Path): void => {
    const def = (node as unknown as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
    if (!def) return;
    if (def.innerType) return walk(def.innerType, rest);
    if (def.type === 'pipe') return walk(def.in, rest);
    if (def.type === 'union') return def.options?.forEach((option) => walk(option, rest));
    if (rest.length === 0) {
      if (def.type === 'object') for (const name of Object.keys(def.shape ?? {})) names.add(name);
      return;
    }
    const [head, ...tail] = rest;
    if (def.type === 'object') walk(def.shape?.[String(head)], tail);
    else if (def.type === 'array') walk(def.element, tail);
    else if (def.type === 'record') walk(def.valueType, tail);
  };
  walk(schema, path);
  return [...names];
}

