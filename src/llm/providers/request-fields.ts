/**
 * Parts of canonical requests that several adapters send in the same form: stop sequences as a list,
 * tool parameter schemas with their default, the tools a tool choice allows, and field sets without
 * their unset members.
 */

import type { ChatRequest, ToolDefinition } from '../wire/chat.js';

/** The object without its undefined members (a new object; `o` is not changed). */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** `stop` as a list; undefined when the request sets none. */
export function stopList(stop: ChatRequest['stop']): string[] | undefined {
  return typeof stop === 'string' ? [stop] : stop;
}

/** The sampling settings OpenAI, Cohere and Ollama name alike (temperature, seed, penalties); unset ones left out. */
export function commonSampling(req: ChatRequest): Record<string, unknown> {
  return defined({ temperature: req.temperature, seed: req.seed, presence_penalty: req.presence_penalty, frequency_penalty: req.frequency_penalty });
}

/** A tool's parameters schema; an object schema without properties when the tool declares none. */
export function toolParameters(def: ToolDefinition): Record<string, unknown> {
  return def.function.parameters ?? { type: 'object', properties: {} };
}

/** The tools a request offers: only the named one for a named `tool_choice`, else all of them (possibly none). */
export function toolsForChoice(req: ChatRequest): ToolDefinition[] {
  const choice = req.tool_choice;
  const tools = req.tools ?? [];
  return typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
}

/** Tools in OpenAI's function shape with {@link toolParameters} filled in (`strict` is left out). */
export function functionTools(tools: readonly ToolDefinition[]): Array<Record<string, unknown>> {
  return tools.map((t) => ({ type: 'function', function: { name: t.function.name, description: t.function.description, parameters: toolParameters(t) } }));
}
