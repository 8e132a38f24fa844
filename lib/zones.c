/* SPDX-License-Identifier: AGPL-3.0-or-later
 * zones.c — the place -> IANA zones tables behind quiet hours (zones.h) and
 * the NANP area code lookup through the offline geocoder. Owns the data;
 * the database copy (phone_zones) is written by `tocsinctl zones refresh`.
 * Split places list every zone they span (tzdata's zone.tab and the
 * states' own borders); the window is their intersection. */
#include "zones.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "phone.h"

#define ET "America/New_York"
#define CT "America/Chicago"
#define MT "America/Denver"
#define PT "America/Los_Angeles"

static const struct tocsin_place_zones places[] = {
    /* United States: states split across zones list each zone. */
    {"Alabama", "AL", "{" CT "}", 21},
    {"Alaska", "AK", "{America/Anchorage,America/Adak}", 21},
    {"Arizona", "AZ", "{America/Phoenix," MT "}", 21}, /* the Navajo Nation keeps DST */
    {"Arkansas", "AR", "{" CT "}", 21},
    {"California", "CA", "{" PT "}", 21},
    {"Colorado", "CO", "{" MT "}", 21},
    {"Connecticut", "CT", "{" ET "}", 21},
    {"Delaware", "DE", "{" ET "}", 21},
    {"Washington D.C.", "DC", "{" ET "}", 21},
    {"Florida", "FL", "{" ET "," CT "}", 20},
    {"Georgia", "GA", "{" ET "}", 21},
    {"Hawaii", "HI", "{Pacific/Honolulu}", 21},
    {"Idaho", "ID", "{America/Boise," PT "}", 21},
    {"Illinois", "IL", "{" CT "}", 21},
    {"Indiana", "IN", "{America/Indiana/Indianapolis," CT "}", 21},
    {"Iowa", "IA", "{" CT "}", 21},
    {"Kansas", "KS", "{" CT "," MT "}", 21},
    {"Kentucky", "KY", "{" ET "," CT "}", 21},
    {"Louisiana", "LA", "{" CT "}", 21},
    {"Maine", "ME", "{" ET "}", 21},
    {"Maryland", "MD", "{" ET "}", 21},
    {"Massachusetts", "MA", "{" ET "}", 21},
    {"Michigan", "MI", "{America/Detroit,America/Menominee}", 21},
    {"Minnesota", "MN", "{" CT "}", 21},
    {"Mississippi", "MS", "{" CT "}", 21},
    {"Missouri", "MO", "{" CT "}", 21},
    {"Montana", "MT", "{" MT "}", 21},
    {"Nebraska", "NE", "{" CT "," MT "}", 21},
    {"Nevada", "NV", "{" PT "," MT "}", 21},
    {"New Hampshire", "NH", "{" ET "}", 21},
    {"New Jersey", "NJ", "{" ET "}", 21},
    {"New Mexico", "NM", "{" MT "}", 21},
    {"New York", "NY", "{" ET "}", 21},
    {"North Carolina", "NC", "{" ET "}", 21},
    {"North Dakota", "ND", "{" CT "," MT "}", 21},
    {"Ohio", "OH", "{" ET "}", 21},
    {"Oklahoma", "OK", "{" CT "}", 20},
    {"Oregon", "OR", "{" PT ",America/Boise}", 21},
    {"Pennsylvania", "PA", "{" ET "}", 21},
    {"Rhode Island", "RI", "{" ET "}", 21},
    {"South Carolina", "SC", "{" ET "}", 21},
    {"South Dakota", "SD", "{" CT "," MT "}", 21},
    {"Tennessee", "TN", "{" ET "," CT "}", 21},
    {"Texas", "TX", "{" CT "," MT "}", 21},
    {"Utah", "UT", "{" MT "}", 21},
    {"Vermont", "VT", "{" ET "}", 21},
    {"Virginia", "VA", "{" ET "}", 21},
    {"Washington", "WA", "{" PT "}", 21},
    {"West Virginia", "WV", "{" ET "}", 21},
    {"Wisconsin", "WI", "{" CT "}", 21},
    {"Wyoming", "WY", "{" MT "}", 21},
    /* US territories in the NANP. */
    {"Puerto Rico", "PR", "{America/Puerto_Rico}", 21},
    {"US Virgin Islands", "VI", "{America/St_Thomas}", 21},
    {"Guam", "GU", "{Pacific/Guam}", 21},
    {"Northern Mariana Islands", "MP", "{Pacific/Saipan}", 21},
    {"American Samoa", "AS", "{Pacific/Pago_Pago}", 21},
    /* Canada. */
    {"Alberta", "AB", "{America/Edmonton}", 21},
    {"British Columbia", "BC", "{America/Vancouver,America/Edmonton}", 21},
    {"Manitoba", "MB", "{America/Winnipeg}", 21},
    {"New Brunswick", "NB", "{America/Moncton}", 21},
    {"Newfoundland and Labrador", "NL", "{America/St_Johns,America/Goose_Bay}", 21},
    {"Nova Scotia", "NS", "{America/Halifax}", 21},
    {"Northwest Territories", "NT", "{America/Edmonton}", 21},
    {"Nunavut", "NU", "{America/Iqaluit,America/Winnipeg,America/Edmonton}", 21},
    {"Ontario", "ON", "{America/Toronto,America/Winnipeg}", 21},
    {"Prince Edward Island", "PE", "{America/Halifax}", 21},
    {"Quebec", "QC", "{America/Toronto,America/Halifax}", 21},
    {"Saskatchewan", "SK", "{America/Regina}", 21},
    {"Yukon", "YT", "{America/Whitehorse}", 21},
    /* Other NANP countries, as the geocoder names them. */
    {"Anguilla", NULL, "{America/Anguilla}", 21},
    {"Antigua & Barbuda", NULL, "{America/Antigua}", 21},
    {"Bahamas", NULL, "{America/Nassau}", 21},
    {"Barbados", NULL, "{America/Barbados}", 21},
    {"Bermuda", NULL, "{Atlantic/Bermuda}", 21},
    {"British Virgin Islands", NULL, "{America/Tortola}", 21},
    {"Cayman Islands", NULL, "{America/Cayman}", 21},
    {"Dominica", NULL, "{America/Dominica}", 21},
    {"Dominican Republic", NULL, "{America/Santo_Domingo}", 21},
    {"Grenada", NULL, "{America/Grenada}", 21},
    {"Jamaica", NULL, "{America/Jamaica}", 21},
    {"Montserrat", NULL, "{America/Montserrat}", 21},
    {"Sint Maarten", NULL, "{America/Lower_Princes}", 21},
    {"St. Kitts & Nevis", NULL, "{America/St_Kitts}", 21},
    {"St. Lucia", NULL, "{America/St_Lucia}", 21},
    {"St. Vincent & Grenadines", NULL, "{America/St_Vincent}", 21},
    {"Trinidad & Tobago", NULL, "{America/Port_of_Spain}", 21},
    {"Turks & Caicos Islands", NULL, "{America/Grand_Turk}", 21},
    /* Other names the geocoder gives areas. */
    {"Philadelphia", NULL, "{" ET "}", 21},
    {"Washington State", NULL, "{" PT "}", 21},
    {"Nova Scotia/Prince Edward Island", NULL, "{America/Halifax}", 21},
    {"Northwest Territories/Nunavut/Yukon", NULL,
     "{America/Whitehorse,America/Edmonton,America/Winnipeg,America/Iqaluit}", 21},
};

static const struct tocsin_country_zones countries[] = {
    {"+20", "Egypt", "{Africa/Cairo}", 21},
    {"+27", "South Africa", "{Africa/Johannesburg}", 21},
    {"+30", "Greece", "{Europe/Athens}", 21},
    {"+31", "Netherlands", "{Europe/Amsterdam}", 21},
    {"+32", "Belgium", "{Europe/Brussels}", 21},
    {"+33", "France", "{Europe/Paris}", 21},
    {"+34", "Spain", "{Europe/Madrid,Atlantic/Canary}", 21},
    {"+36", "Hungary", "{Europe/Budapest}", 21},
    {"+39", "Italy", "{Europe/Rome}", 21},
    {"+40", "Romania", "{Europe/Bucharest}", 21},
    {"+41", "Switzerland", "{Europe/Zurich}", 21},
    {"+43", "Austria", "{Europe/Vienna}", 21},
    {"+44", "United Kingdom", "{Europe/London}", 21},
    {"+45", "Denmark", "{Europe/Copenhagen}", 21},
    {"+46", "Sweden", "{Europe/Stockholm}", 21},
    {"+47", "Norway", "{Europe/Oslo}", 21},
    {"+48", "Poland", "{Europe/Warsaw}", 21},
    {"+49", "Germany", "{Europe/Berlin}", 21},
    {"+51", "Peru", "{America/Lima}", 21},
    {"+52", "Mexico", "{America/Mexico_City,America/Cancun,America/Chihuahua,America/Tijuana}", 21},
    {"+53", "Cuba", "{America/Havana}", 21},
    {"+54", "Argentina", "{America/Argentina/Buenos_Aires}", 21},
    {"+55", "Brazil", "{America/Sao_Paulo,America/Manaus,America/Rio_Branco}", 21},
    {"+56", "Chile", "{America/Santiago}", 21},
    {"+57", "Colombia", "{America/Bogota}", 21},
    {"+58", "Venezuela", "{America/Caracas}", 21},
    {"+60", "Malaysia", "{Asia/Kuala_Lumpur}", 21},
    {"+61", "Australia", "{Australia/Sydney,Australia/Adelaide,Australia/Brisbane,Australia/Perth}",
     21},
    {"+62", "Indonesia", "{Asia/Jakarta,Asia/Makassar,Asia/Jayapura}", 21},
    {"+63", "Philippines", "{Asia/Manila}", 21},
    {"+64", "New Zealand", "{Pacific/Auckland}", 21},
    {"+65", "Singapore", "{Asia/Singapore}", 21},
    {"+66", "Thailand", "{Asia/Bangkok}", 21},
    {"+81", "Japan", "{Asia/Tokyo}", 21},
    {"+82", "South Korea", "{Asia/Seoul}", 21},
    {"+84", "Vietnam", "{Asia/Ho_Chi_Minh}", 21},
    {"+86", "China", "{Asia/Shanghai}", 21},
    {"+90", "Turkey", "{Europe/Istanbul}", 21},
    {"+91", "India", "{Asia/Kolkata}", 21},
    {"+92", "Pakistan", "{Asia/Karachi}", 21},
    {"+234", "Nigeria", "{Africa/Lagos}", 21},
    {"+254", "Kenya", "{Africa/Nairobi}", 21},
    {"+351", "Portugal", "{Europe/Lisbon,Atlantic/Azores}", 21},
    {"+353", "Ireland", "{Europe/Dublin}", 21},
    {"+358", "Finland", "{Europe/Helsinki}", 21},
    {"+380", "Ukraine", "{Europe/Kyiv}", 21},
    {"+502", "Guatemala", "{America/Guatemala}", 21},
    {"+503", "El Salvador", "{America/El_Salvador}", 21},
    {"+504", "Honduras", "{America/Tegucigalpa}", 21},
    {"+505", "Nicaragua", "{America/Managua}", 21},
    {"+506", "Costa Rica", "{America/Costa_Rica}", 21},
    {"+507", "Panama", "{America/Panama}", 21},
    {"+509", "Haiti", "{America/Port-au-Prince}", 21},
    {"+591", "Bolivia", "{America/La_Paz}", 21},
    {"+593", "Ecuador", "{America/Guayaquil}", 21},
    {"+972", "Israel", "{Asia/Jerusalem}", 21},
    {"+971", "United Arab Emirates", "{Asia/Dubai}", 21},
};

const struct tocsin_place_zones tocsin_zones_nanp_unknown = {
    "unknown NANP area", NULL, "{America/St_Johns," ET ",America/Anchorage,Pacific/Honolulu}", 20};
const struct tocsin_country_zones tocsin_zones_world_unknown = {"+", "unknown country", "{UTC}",
                                                                20};

const struct tocsin_place_zones *tocsin_zones_places(size_t *n)
{
    *n = ARRAY_SIZE(places);
    return places;
}

const struct tocsin_country_zones *tocsin_zones_countries(size_t *n)
{
    *n = ARRAY_SIZE(countries);
    return countries;
}

const struct tocsin_place_zones *tocsin_zones_for_place(const char *d)
{
    if (!d || !*d)
        return NULL;
    const char *comma = strrchr(d, ',');
    /* "Miami, FL": a city and the state's two letters. */
    if (comma && comma[1] == ' ' && strlen(comma + 2) == 2) {
        for (size_t i = 0; i < ARRAY_SIZE(places); i++)
            if (places[i].abbrev && strcmp(places[i].abbrev, comma + 2) == 0)
                return &places[i];
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(places); i++)
        if (strcmp(places[i].name, d) == 0)
            return &places[i];
    return NULL;
}

const struct tocsin_place_zones *tocsin_zones_for_npa(int npa)
{
    /* Exchanges 200-999 are assignable in every area; the geocoder names
     * only valid numbers, so sample exchanges across the range until one
     * is valid and named. */
    if (npa < 200 || npa > 999)
        return NULL;
    for (int ex = 200; ex <= 999; ex += 23) {
        char e164[32], place[128];
        snprintf(e164, sizeof e164, "+1%03d%03d1234", npa, ex);
        if (tocsin_phone_describe(e164, place, sizeof place) == 0) {
            const struct tocsin_place_zones *p = tocsin_zones_for_place(place);
            if (p)
                return p;
        }
    }
    return NULL;
}
