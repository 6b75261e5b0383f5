<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The committed stubs must describe exactly what the extension defines.
 */
final class StubsTest extends TestCase
{
    private const STUBS = __DIR__ . '/../../stubs/monei_concurrency.stub.php';

    public function testStubsMatchTheExtension(): void
    {
        $fromExtension = self::describe(null);
        $fromStubs = self::describe(self::STUBS);
        self::assertNotEmpty($fromExtension['classes']);
        self::assertSame($fromStubs, $fromExtension);
    }

    /**
     * Runs a child PHP without the extension when reading the stubs, so the
     * two definitions never meet in one process.
     *
     * @return array<string, mixed>
     */
    private static function describe(?string $stubs): array
    {
        $code = self::describer();
        $cmd = $stubs === null
            ? [PHP_BINARY, '-r', $code]
            : [PHP_BINARY, '-n', '-r', 'require ' . var_export($stubs, true) . ';' . $code];
        $env = $stubs === null ? null : ['PHP_INI_SCAN_DIR' => ''];
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
        self::assertIsResource($proc);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        self::assertSame(0, proc_close($proc), $err);
        return json_decode((string) $out, true, 512, JSON_THROW_ON_ERROR);
    }

    private static function describer(): string
    {
        return <<<'PHP'
            $type = fn (?ReflectionType $t) => $t === null ? null : (string) $t;
            $out = ['classes' => [], 'functions' => []];
            foreach (get_declared_classes() as $c) {
                if (!str_starts_with($c, 'Monei\\Concurrency\\')) continue;
                $r = new ReflectionClass($c);
                $methods = [];
                foreach ($r->getMethods() as $m) {
                    if ($m->getDeclaringClass()->getName() !== $c) continue;
                    $params = [];
                    foreach ($m->getParameters() as $p) {
                        $params[] = [
                            'name' => $p->getName(),
                            'type' => $type($p->getType()),
                            'optional' => $p->isOptional(),
                            'default' => $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : null,
                        ];
                    }
                    $methods[$m->getName()] = [
                        'static' => $m->isStatic(),
                        'params' => $params,
                        'return' => $type($m->getReturnType()),
                    ];
                }
                ksort($methods);
                $out['classes'][$c] = [
                    'final' => $r->isFinal(),
                    'parent' => $r->getParentClass() ? $r->getParentClass()->getName() : null,
                    'methods' => $methods,
                ];
            }
            foreach (get_defined_functions()['user'] + get_defined_functions()['internal'] as $f) {
                if (!str_starts_with($f, 'monei\\concurrency\\')) continue;
                $r = new ReflectionFunction($f);
                $params = [];
                foreach ($r->getParameters() as $p) {
                    $params[] = [$p->getName(), $type($p->getType()), $p->isOptional(),
                        $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : null];
                }
                $out['functions'][$r->getName()] = ['params' => $params, 'return' => $type($r->getReturnType())];
            }
            ksort($out['classes']);
            ksort($out['functions']);
            echo json_encode($out);
            PHP;
    }
}
