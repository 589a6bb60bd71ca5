import { badInput } from '../errors/domain-error.js';

// Input rules shared by services (people, credentials, labels), checked before anything is hashed or written.

const MIN_PASSWORD = 8;
// argon2 accepts any length; the cap keeps one request from making the server hash megabytes
const MAX_PASSWORD = 1024;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USERNAME = /^[a-zA-Z0-9._-]{1,64}$/;

export function checkPassword(password: string, field: string): void {
  if (password.length < MIN_PASSWORD) throw badInput(field, `${field} must be at least ${MIN_PASSWORD} characters long`);
  if (password.length > MAX_PASSWORD) throw badInput(field, `${field} must be at most ${MAX_PASSWORD} characters long`);
}

/** The address trimmed. */
export function checkEmail(value: string, field: string): string {
  const email = value.trim();
  if (!EMAIL.test(email)) throw badInput(field, `${field} must be an email address`);
  return email;
}

export function checkUsername(value: string, field: string): string {
  if (!USERNAME.test(value)) throw badInput(field, `${field} must be 1 to 64 letters, digits, dots, underscores or dashes`);
  return value;
}

/** A name or label that must say something: trimmed, not empty. */
export function requiredText(value: string, field: string): string {
  const text = value.trim();
  if (!text) throw badInput(field, `${field} must not be empty`);
  return text;
}

/** An optional label: trimmed, blank becomes null. */
export const optionalText = (value: string | null | undefined): string | null => value?.trim() || null;
