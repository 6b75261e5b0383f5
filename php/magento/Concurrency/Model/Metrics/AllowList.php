<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Metrics;

/**
 * The addresses allowed to scrape the metrics endpoint: single IPv4/IPv6
 * addresses and CIDR ranges ("10.0.0.0/8", "fd00::/8"). An entry that is
 * neither is refused when the list is built, so a typo never opens or
 * silently closes the endpoint.
 */
final class AllowList
{
    /** @var list<array{0: string, 1: int}> packed network address and prefix length */
    private array $ranges = [];

    /** @param list<string> $entries */
    public function __construct(array $entries)
    {
        foreach ($entries as $entry) {
            [$address, $bits] = str_contains($entry, '/') ? explode('/', $entry, 2) : [$entry, null];
            $packed = @inet_pton($address);
            $max = $packed === false ? 0 : strlen($packed) * 8;
            if ($packed === false || ($bits !== null && (!preg_match('/^\d{1,3}$/', $bits) || (int) $bits > $max))) {
                throw new \InvalidArgumentException('invalid entry in monei_concurrency/metrics/allow: "'
                    . addcslashes($entry, "\0..\37\177..\377") . '" (an IP address or CIDR range expected)');
            }
            $this->ranges[] = [$packed, $bits === null ? $max : (int) $bits];
        }
    }

    public function allows(string $address): bool
    {
        $packed = @inet_pton($address);
        if ($packed === false) {
            return false;
        }
        foreach ($this->ranges as [$network, $bits]) {
            if (strlen($network) !== strlen($packed)) {
                continue;
            }
            $bytes = intdiv($bits, 8);
            if (substr($network, 0, $bytes) !== substr($packed, 0, $bytes)) {
                continue;
            }
            $rest = $bits % 8;
            if ($rest === 0) {
                return true;
            }
            $mask = (0xff << (8 - $rest)) & 0xff;
            if ((ord($network[$bytes]) & $mask) === (ord($packed[$bytes]) & $mask)) {
                return true;
            }
        }
        return false;
    }
}
