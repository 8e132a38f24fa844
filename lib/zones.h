/* SPDX-License-Identifier: AGPL-3.0-or-later
 * zones.h — where a phone number is, for quiet hours (COMPLIANCE.md:
 * 08:00-21:00 recipient local time, 08:00-20:00 in Florida and Oklahoma).
 * A static table of US states, territories, Canadian provinces and the
 * Caribbean NANP countries -> IANA zones, one of country calling codes ->
 * zones, and the NANP area code enumeration that feeds the database's
 * phone_zones table through the offline geocoder (lib/phone). A place split
 * across zones lists all of them: the quiet-hours window is their
 * intersection, safe for everyone there. Pure except the geocoder. */
#ifndef TOCSIN_ZONES_H
#define TOCSIN_ZONES_H

#include <stddef.h>

/* zones is a PostgreSQL text[] literal ("{America/New_York,America/Chicago}"),
 * at most 8 zones, so it goes into SQL as one parameter. Static storage. */
struct tocsin_place_zones {
    const char *name;   /* "Florida", "Ontario", "Puerto Rico" */
    const char *abbrev; /* "FL", or NULL for a country */
    const char *zones;
    int quiet_end_hour; /* 21, or 20 (Florida, Oklahoma) */
};

struct tocsin_country_zones {
    const char *prefix; /* "+44": the calling code with its plus */
    const char *region; /* "United Kingdom" */
    const char *zones;
    int quiet_end_hour;
};

/* The conservative defaults: a NANP number whose area the geocoder does
 * not name (toll free, non-geographic) gets the zones from Newfoundland to
 * Honolulu (their shared window, 20:00 end); any other number we cannot
 * place gets UTC 08:00-20:00, a guess: import a timezone column for
 * members abroad. */
extern const struct tocsin_place_zones tocsin_zones_nanp_unknown;
extern const struct tocsin_country_zones tocsin_zones_world_unknown;

/* The place named by a geocoder description: "Florida", "Miami, FL" (the
 * two letters after the last ", "), "Ontario", "Jamaica". Returns the
 * static entry, or NULL when the description names no known place. */
const struct tocsin_place_zones *tocsin_zones_for_place(const char *description);

/* The static tables, for enumeration (tests, refresh). *n gets the count. */
const struct tocsin_place_zones *tocsin_zones_places(size_t *n);
const struct tocsin_country_zones *tocsin_zones_countries(size_t *n);

/* The place of NANP area code npa (200..999) from the geocoder's
 * description of a few sample numbers in it. Returns the static entry, or
 * NULL when the geocoder names nothing we map (non-geographic codes,
 * unassigned ones). */
const struct tocsin_place_zones *tocsin_zones_for_npa(int npa);

#endif
