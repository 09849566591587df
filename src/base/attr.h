/*
 * attr.h: compiler attributes that make a header's contract checked.
 *
 * MUST_CHECK marks a function whose result says whether it worked: ignoring it is a bug,
 * and the build (-Werror) refuses it. GCC does not accept a (void) cast to silence it;
 * use the result.
 *
 * NOINLINE keeps a function's frame its own: GCC inlines a static function called once
 * into its caller, whose frame then holds the callee's buffers under every deeper call.
 * For a cold path with big buffers (submit.c's failures), a -bd worker would keep those
 * stack pages dirty for nothing.
 */
#ifndef MAILOUT_ATTR_H
#define MAILOUT_ATTR_H

#define MUST_CHECK __attribute__((warn_unused_result))
#define NOINLINE __attribute__((noinline))

#endif
