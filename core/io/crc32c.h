// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of iSCSI,
// ext4 metadata and many storage formats. Checkpoint manifests use it to detect corrupt or
// truncated files. Check value: crc32c("123456789") == 0xE3069283.
//
//   uint32_t c = crc32c(data, n);
//   uint32_t c2 = crc32c_extend(crc32c(a, na), b, nb);  // == crc32c(a ++ b)
//
// crc32c() uses the SSE4.2 CRC32 instruction when the CPU has it (checked once at run time)
// and a slicing-by-8 table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chorus {

// Continues a checksum: `crc` is the result for the bytes before `data` (0 for none).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

// The two implementations, exposed so tests can check both on any machine.
uint32_t crc32c_extend_software(uint32_t crc, const void* data, size_t n);
// Only valid when crc32c_hardware_available(); otherwise it must not be called.
uint32_t crc32c_extend_hardware(uint32_t crc, const void* data, size_t n);
bool crc32c_hardware_available();

}  // namespace chorus
