import type { StandardJSONSchemaV1 } from "@standard-schema/spec";
import type { AnyJob } from "../../job/types.js";

type JsonSchema = Record<string, unknown>;

/**
 * A job's input as JSON Schema, from the Standard JSON Schema interface (zod 4 and others
 * implement it next to Standard Schema), or undefined when the schema library offers none or
 * cannot express this schema (a `z.date()`, a transform): the console then says "custom".
 */
export function inputJsonSchema(job: AnyJob): JsonSchema | undefined {
  const converter = (job.input as Partial<StandardJSONSchemaV1>)["~standard"]?.jsonSchema;
  if (typeof converter?.input !== "function") return undefined;
  try {
    return converter.input({ target: "draft-2020-12" });
  } catch {
    return undefined;
  }
}

/**
 * A value that fits the schema as far as a guess can tell, to pre-fill the Trigger form:
 * defaults and examples first, then the first enum value or `anyOf` branch, then a typed
 * placeholder. Every property of an object is filled, so the form shows the whole shape.
 */
export function exampleOf(schema: JsonSchema | undefined): unknown {
  return schema ? example(schema, schema, 0) : {};
}

function example(s: JsonSchema, root: JsonSchema, depth: number): unknown {
  if (depth > 8) return null;
  if ("default" in s) return s.default;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (typeof s.$ref === "string") {
    const target = resolveRef(s.$ref, root);
    return target ? example(target, root, depth + 1) : null;
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const list = s[key];
    if (Array.isArray(list) && list.length) {
      const first = list.find((b) => (b as JsonSchema).type !== "null") ?? list[0];
      return example(first as JsonSchema, root, depth + 1);
    }
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== "null") ?? s.type[0]) : s.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      for (const [name, prop] of Object.entries(props)) out[name] = example(prop, root, depth + 1);
      return out;
    }
    case "array": {
      const items = s.items as JsonSchema | undefined;
      const min = typeof s.minItems === "number" ? s.minItems : 0;
      return items && min > 0 ? Array.from({ length: min }, () => example(items, root, depth + 1)) : [];
    }
    case "string":
      return stringExample(s);
    case "integer":
    case "number":
      return typeof s.minimum === "number"
        ? s.minimum
        : typeof s.exclusiveMinimum === "number"
          ? s.exclusiveMinimum + 1
          : 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return null;
  }
}

const FORMATS: Record<string, string> = {
  email: "user@example.com",
  uri: "https://example.com",
  url: "https://example.com",
  uuid: "00000000-0000-4000-8000-000000000000",
  "date-time": "2030-01-01T00:00:00.000Z",
  date: "2030-01-01",
  time: "00:00:00",
};

function stringExample(s: JsonSchema): string {
  const known = typeof s.format === "string" ? FORMATS[s.format] : undefined;
  if (known) return known;
  const min = typeof s.minLength === "number" ? s.minLength : 0;
  return min > 0 ? "x".repeat(min) : "";
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return node && typeof node === "object" ? (node as JsonSchema) : undefined;
}
