/* util.c: functions in their own object, so the link has something to resolve. */
#include <math.h>

#include "util.h"

unsigned long fib(unsigned n)
{
    unsigned long a = 0, b = 1;
    while (n--) {
        unsigned long t = a + b;
        a = b;
        b = t;
    }
    return a;
}

double hypotenuse(double a, double b)
{
    return sqrt(a * a + b * b);
}
