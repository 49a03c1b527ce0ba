/* A stand-in bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library (1.78+)
 * imports ProcessPrng from it for random numbers, so without this every Rust .exe exits at once
 * (status 53, no output). Installed only into scripts/cross's own Wine prefix, never shipped.
 * Forwards to RtlGenRandom (advapi32's SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
