import { z } from 'zod';

/**
 * `schema` with every `.default()` inside it (through objects, arrays and optionals) replaced by
 * the schema it wraps: the same checks, but a field that had a default is now required. For a
 * value that already holds every defaulted field it parses to the same result as `schema`.
 * Objects keep their unknown-key policy (strict stays strict) and arrays their bounds.
 */
export function withDefaultsRequired(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault) return withDefaultsRequired(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodOptional) {
    const inner = schema.unwrap() as z.ZodType;
    const required = withDefaultsRequired(inner);
    return required === inner ? schema : required.optional();
  }
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodType>;
    const changed = Object.entries(shape).flatMap(([key, field]) => {
      const required = withDefaultsRequired(field);
      return required === field ? [] : [[key, required] as const];
    });
    return changed.length === 0 ? schema : schema.extend(Object.fromEntries(changed));
  }
  if (schema instanceof z.ZodArray) {
    const element = schema.element as z.ZodType;
    const required = withDefaultsRequired(element);
    return required === element ? schema : schema.clone({ ...schema.def, element: required });
  }
  return schema;
}
