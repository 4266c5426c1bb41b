/* util.h: what main.c uses from util.c (the second object of the link). */
#ifndef UTIL_H
#define UTIL_H
unsigned long fib(unsigned n);
double hypotenuse(double a, double b);
#endif
