<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use PHPUnit\Framework\TestCase;

/**
 * The doubles of Magento's and MONEI's classes against the real signatures
 * in Doubles/signatures.json (class, method, parameters with their types and
 * defaults, return type, and the source each was read from): a double that
 * drifts from the real class fails here.
 */
final class DoubleSignaturesTest extends TestCase
{
    /** @return list<array<string, mixed>> */
    private static function manifest(): array
    {
        $doc = json_decode((string) file_get_contents(__DIR__ . '/Doubles/signatures.json'), true, 512, JSON_THROW_ON_ERROR);
        return $doc['signatures'];
    }

    private static function type(?\ReflectionType $type): ?string
    {
        return $type === null ? null : (string) $type;
    }

    /** The signature of a double's method in the manifest's form. */
    private static function actual(string $class, string $method): array
    {
        $m = new \ReflectionMethod($class, $method);
        $params = [];
        foreach ($m->getParameters() as $p) {
            $entry = ['name' => $p->getName()];
            if ($p->hasType()) {
                $entry['type'] = self::type($p->getType());
            }
            if ($p->isDefaultValueAvailable()) {
                $entry['default'] = $p->getDefaultValue();
            }
            $params[] = $entry;
        }
        return ['params' => $params, 'return' => self::type($m->getReturnType())];
    }

    public function testEveryEntryNamesASource(): void
    {
        $manifest = self::manifest();
        self::assertGreaterThan(60, count($manifest));
        foreach ($manifest as $e) {
            self::assertMatchesRegularExpression('/(magento\/magento2|Magento 2\.4|monei\/module-monei-payment 2\.2\.3)/', $e['source'], $e['class'] . '::' . $e['method']);
        }
    }

    public function testTheDoublesMatchTheRealSignatures(): void
    {
        $diverging = [];
        foreach (self::manifest() as $e) {
            $where = $e['class'] . '::' . $e['method'];
            $file = (new \ReflectionClass($e['class']))->getFileName();
            self::assertStringStartsWith(__DIR__ . '/Doubles/', (string) $file, "$where is checked on a double");
            if (!method_exists($e['class'], $e['method'])) {
                $diverging[] = "$where: missing";
                continue;
            }
            $expected = ['params' => $e['params'], 'return' => $e['return']];
            $actual = self::actual($e['class'], $e['method']);
            if ($expected !== $actual) {
                $diverging[] = "$where: double " . json_encode($actual) . ' vs real ' . json_encode($expected);
            }
        }
        self::assertSame([], $diverging);
    }

    public function testADivergingDoubleIsCaught(): void
    {
        // The control: the comparison sees a changed default.
        $e = self::manifest()[0];
        $e['params'][0]['default'] = 'something else';
        self::assertNotSame(['params' => $e['params'], 'return' => $e['return']], self::actual($e['class'], $e['method']));
    }
}
