/**
 * An HTTP-date (RFC 9110 §5.6.7) is an IMF-fixdate, or one of the obsolete rfc850 and asctime forms a recipient
 * should read; anything else is no date (NaN), however Date.parse would read it on one runtime or another. The same
 * answers on every runtime: a `Retry-After` and an `If-Range` date depend on them.
 */
import { describe, expect, it } from 'vitest'
import { httpDate } from '../src/core/http-date.ts'

/** 1 December 2026, noon: rfc850's two-digit years are read from here unless a test says otherwise. */
const NOW = Date.UTC(2026, 11, 1, 12)
const at = (value: string | null | undefined, now = NOW) => httpDate(value, now)

describe('the three forms', () => {
  it('reads an IMF-fixdate, an rfc850 date and an asctime date (in GMT) as the same time', () => {
    const time = Date.UTC(1994, 10, 6, 8, 49, 37)
    expect([
      at('Sun, 06 Nov 1994 08:49:37 GMT'),
      at('Sunday, 06-Nov-94 08:49:37 GMT'),
      at('Sun Nov  6 08:49:37 1994'),
      at('Sun Nov 06 08:49:37 1994'),
    ]).toEqual([time, time, time, time])
  })

  it('reads every weekday name of rfc850, full', () => {
    const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
    // 14 to 20 December 2026 run from Monday to Sunday.
    expect(days.map((day, i) => at(`${day}, ${14 + i}-Dec-26 00:00:00 GMT`))).toEqual(
      days.map((_, i) => Date.UTC(2026, 11, 14 + i)),
    )
  })

  it('reads the first and last moments of a year and of a day, and the epoch', () => {
    expect(at('Thu, 31 Dec 2026 23:59:59 GMT')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59))
    expect(at('Fri, 01 Jan 2027 00:00:00 GMT')).toBe(Date.UTC(2027, 0, 1))
    expect(at('Thu, 01 Jan 1970 00:00:00 GMT')).toBe(0)
    expect(at('Fri Jan  1 00:00:00 2027')).toBe(Date.UTC(2027, 0, 1))
  })

  it('reads 29 February in a leap year only: 2024 and 2000, not 2026 nor 1900', () => {
    expect(at('Thu, 29 Feb 2024 12:00:00 GMT')).toBe(Date.UTC(2024, 1, 29, 12))
    expect(at('Tue, 29 Feb 2000 12:00:00 GMT')).toBe(Date.UTC(2000, 1, 29, 12))
    expect(at('Sun, 29 Feb 2026 12:00:00 GMT')).toBeNaN()
    expect(at('Thu, 29 Feb 1900 12:00:00 GMT')).toBeNaN()
    expect(at('Sunday, 29-Feb-26 12:00:00 GMT')).toBeNaN()
  })
})

describe("rfc850's two-digit year", () => {
  it('is at most 50 years ahead, else in the past century', () => {
    expect(at('Friday, 06-Nov-76 00:00:00 GMT')).toBe(Date.UTC(2076, 10, 6))
    expect(at('Sunday, 06-Nov-77 00:00:00 GMT')).toBe(Date.UTC(1977, 10, 6))
    expect(at('Tuesday, 01-Dec-26 00:00:00 GMT')).toBe(Date.UTC(2026, 11, 1))
  })

  it("follows the clock: from 2090, '10' is 2110 and '41' 2041", () => {
    const now = Date.UTC(2090, 0, 1)
    expect(at('Thursday, 06-Nov-10 00:00:00 GMT', now)).toBe(Date.UTC(2110, 10, 6))
    expect(at('Wednesday, 06-Nov-41 00:00:00 GMT', now)).toBe(Date.UTC(2041, 10, 6))
  })

  it("must name the weekday of the year it is read as: '94' is 1994's Sunday, not 2094's Saturday", () => {
    expect(at('Saturday, 06-Nov-94 00:00:00 GMT')).toBeNaN()
    expect(at('Saturday, 06-Nov-94 00:00:00 GMT', Date.UTC(2060, 0, 1))).toBe(Date.UTC(2094, 10, 6))
  })
})

describe('anything else is no date', () => {
  it.each([
    ['nothing', ''],
    ['null', null],
    ['undefined', undefined],
    ['seconds', '120'],
    ['a negative number', '-1'],
    ['a fraction', '1.5'],
    ['an ISO day', '2027-01-01'],
    ['an ISO time', '2027-01-01T08:00:00Z'],
    ['a word', 'soon'],
    ['a day that does not exist', 'Mon, 32 Nov 2026 08:49:37 GMT'],
    ['31 November', 'Tue, 31 Nov 2026 08:49:37 GMT'],
    ['hour 25', 'Fri, 06 Nov 2026 25:00:00 GMT'],
    ['hour 24', 'Fri, 06 Nov 2026 24:00:00 GMT'],
    ['minute 60', 'Fri, 06 Nov 2026 08:60:00 GMT'],
    ['a leap second, which a Date cannot hold', 'Thu, 31 Dec 2026 23:59:60 GMT'],
    ['a month that does not exist', 'Fri, 06 Foo 2026 08:49:37 GMT'],
    ["a weekday that is not the date's", 'Mon, 06 Nov 2026 08:49:37 GMT'],
    ['a weekday that does not exist', 'Foo, 06 Nov 2026 08:49:37 GMT'],
    ['lower case (HTTP-date is case-sensitive)', 'fri, 06 nov 2026 08:49:37 gmt'],
    ['another zone', 'Fri, 06 Nov 2026 08:49:37 UTC'],
    ['an offset', 'Fri, 06 Nov 2026 08:49:37 +0000'],
    ['no zone in the fixdate', 'Fri, 06 Nov 2026 08:49:37'],
    ['a one-digit day in the fixdate', 'Fri, 6 Nov 2026 08:49:37 GMT'],
    ['a two-digit year in the fixdate', 'Fri, 06 Nov 26 08:49:37 GMT'],
    ['a one-digit hour', 'Fri, 06 Nov 2026 8:49:37 GMT'],
    ['no seconds', 'Fri, 06 Nov 2026 08:49 GMT'],
    ['milliseconds', 'Fri, 06 Nov 2026 08:49:37.000 GMT'],
    ['a doubled space', 'Fri, 06 Nov 2026  08:49:37 GMT'],
    ['no comma', 'Fri 06 Nov 2026 08:49:37 GMT'],
    ['a full weekday name in the fixdate', 'Friday, 06 Nov 2026 08:49:37 GMT'],
    ['a short weekday name in rfc850', 'Fri, 06-Nov-26 08:49:37 GMT'],
    ['a four-digit year in rfc850', 'Friday, 06-Nov-2026 08:49:37 GMT'],
    ['rfc850 without its zone', 'Friday, 06-Nov-26 08:49:37'],
    ['asctime with one space before a one-digit day', 'Fri Nov 6 08:49:37 2026'],
    ['asctime with a zone', 'Fri Nov  6 08:49:37 2026 GMT'],
    ['asctime with a two-digit year', 'Fri Nov  6 08:49:37 26'],
    ['asctime with a day that does not exist', 'Mon Nov 31 08:49:37 2026'],
  ])('%s: %j', (_, value) => {
    expect(at(value)).toBeNaN()
  })
})
