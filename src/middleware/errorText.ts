/**
 * A short, serializable text for an error the runtime handed us (an Error, a DOMException, an
 * error event), for the state: a thrown value is not serializable and may be any size.
 */
const MAX_LENGTH = 200;

export function errorText(error: unknown): string | undefined {
  let text: string | undefined;
  if (error instanceof Error) {
    text = error.name && error.name !== 'Error' && !error.message.startsWith(error.name) ? `${error.name}: ${error.message}` : error.message;
  } else if (typeof error === 'string') {
    text = error;
  }
  if (!text) return undefined;
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
