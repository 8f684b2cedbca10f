/**
 * The one place an argv array becomes a shell string. SSH's exec request carries a single string that the
 * remote login shell parses, so every argument is quoted for a POSIX shell (sh, dash, bash, zsh, ksh). Nothing
 * else in the project may build shell strings: commands stay argv arrays end to end.
 *
 * Single quotes are used because inside them a POSIX shell interprets nothing at all (no $, `, \, !, glob
 * or newline handling); the only character that cannot appear inside is the single quote itself, written as
 * '\'' (close, escaped quote, reopen). Arguments made only of characters no POSIX shell treats specially are
 * left bare so logged commands stay readable. csh-family login shells are not supported (they expand ! and
 * reject newlines even inside single quotes).
 */

// Deliberately small: no '~', glob or brace characters, and '=' only after the first character (zsh
// expands a leading '=cmd' to a path), so `--mode=script` stays bare.
const BARE = /^[A-Za-z0-9_./:@%+,-][A-Za-z0-9_./:@%+,=-]*$/;

export function quoteShellArg(arg: string): string {
  // A NUL cannot be part of any argv entry (execve stops at it); quoting it would silently truncate.
  if (arg.includes('\0')) throw new TypeError('an argument cannot contain a NUL byte');
  if (BARE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each argument and joins them: the remote shell then hands the command exactly this argv. */
export function quoteShellArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('cannot run an empty argv');
  return argv.map(quoteShellArg).join(' ');
}
