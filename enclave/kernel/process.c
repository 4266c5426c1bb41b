/* process.c: the process object (see process.h). */
#include "process.h"

#include "klib.h"
#include "scheduler.h"

static struct process *g_first;

struct process *process_first(void)
{
    return g_first;
}

struct process *current_process(void)
{
    struct thread *t = current();
    return t ? t->proc : g_first; /* before the scheduler exists: boot works for the first */
}

struct process *process_init(void)
{
    struct process *p = kzalloc(sizeof(*p));
    if (!p)
        kpanic("out of kernel memory for the first process");
    p->pid = 1;
    p->umask = 022;
    g_first = p;
    return p;
}
