/*
 * attr.h: compiler attributes that make a header's contract checked.
 *
 * MUST_CHECK marks a function whose result says whether it worked: ignoring it is a bug,
 * and the build (-Werror) refuses it. GCC does not accept a (void) cast to silence it;
 * use the result.
 */
#ifndef MAILOUT_ATTR_H
#define MAILOUT_ATTR_H

#define MUST_CHECK __attribute__((warn_unused_result))

#endif
