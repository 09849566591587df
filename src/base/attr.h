/*
 * attr.h: compiler attributes that make a header's contract checked.
 *
 * MUST_CHECK marks a function whose result says whether it worked: ignoring it is a bug.
 * (Empty until every call site uses the result; then the build refuses an ignored one.)
 */
#ifndef MAILOUT_ATTR_H
#define MAILOUT_ATTR_H

#define MUST_CHECK

#endif
