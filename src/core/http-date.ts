/**
 * The time an HTTP-date names (RFC 9110 §5.6.7), in milliseconds since the epoch, or NaN for any other value:
 * an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or one of the obsolete forms recipients should read, rfc850
 * (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`, in GMT though it names no zone).
 * Date.parse alone is no judge: it reads junk (`-1` as a day in 2001, `2027-01-01` as a local date, `31 Nov` as
 * 1 December) and differs between runtimes. So the obsolete forms are rewritten as the fixdate, and its time counts
 * only if `toUTCString`, which ECMAScript defines to the character, prints it back exactly: that rejects any other
 * format, case or spacing, a day or time that does not exist (`31 Nov`, `25:00:00`, a leap second), and a weekday
 * that is not the date's. rfc850's two-digit year is the one with those digits at most 50 years after `now`'s,
 * else in the past century; its weekday is judged by its first three letters.
 */
export function httpDate(value: string | null | undefined, now: number = Date.now()): number {
  const year = new Date(now).getUTCFullYear()
  const fixdate = (value ?? '')
    .replace(
      /^(\w{3})\w*day, (\d\d)-(\w{3})-(\d\d) /,
      (_, w: string, d: string, m: string, y: string) =>
        `${w}, ${d} ${m} ${year + ((+y - (year % 100) + 149) % 100) - 49} `,
    )
    .replace(
      /^(\w{3}) (\w{3}) ( \d|\d\d) (\S+) (\d+)$/,
      (_, w: string, m: string, d: string, t: string, y: string) =>
        `${w}, ${d.replace(' ', '0')} ${m} ${y} ${t} GMT`,
    )
  const time = Date.parse(fixdate)
  return new Date(time).toUTCString() === fixdate ? time : NaN
}
