<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The documentation stays navigable: the README stays short (the depth is in
 * docs/, bench/README.md, CONTRIBUTING.md and the Magento module's README),
 * and every relative link of every document points at a file that exists
 * and, with a #fragment, at a heading of that file.
 */
final class DocsTest extends TestCase
{
    private const ROOT = __DIR__ . '/../..';

    /** @return list<string> paths relative to the repository root */
    private static function documents(): array
    {
        $docs = ['README.md', 'CONTRIBUTING.md', 'RELIABILITY.md', 'CHANGELOG.md', 'bench/README.md', 'php/magento/README.md'];
        foreach (glob(self::ROOT . '/docs/*.md') ?: [] as $f) {
            $docs[] = 'docs/' . basename($f);
        }
        return $docs;
    }

    public function testTheReadmeIsShort(): void
    {
        $lines = count(file(self::ROOT . '/README.md'));
        self::assertLessThan(500, $lines, 'README.md has grown past 500 lines: move the depth to docs/');
    }

    public function testEveryRelativeLinkResolves(): void
    {
        $checked = 0;
        $broken = [];
        foreach (self::documents() as $doc) {
            $path = self::ROOT . '/' . $doc;
            self::assertFileExists($path);
            $text = preg_replace('/^```.*?^```/ms', '', (string) file_get_contents($path));
            preg_match_all('/\]\(([^)\s]+)\)/', $text, $m);
            foreach ($m[1] as $link) {
                if (preg_match('~^[a-z]+:~', $link)) {
                    continue; // https:, mailto:
                }
                [$file, $anchor] = array_pad(explode('#', $link, 2), 2, '');
                $target = $file === '' ? $path : dirname($path) . '/' . $file;
                $checked++;
                if (!file_exists($target)) {
                    $broken[] = "$doc: $link (no such file)";
                } elseif ($anchor !== '' && str_ends_with($target, '.md') && !in_array($anchor, self::anchors($target), true)) {
                    $broken[] = "$doc: $link (no such heading)";
                }
            }
        }
        self::assertGreaterThan(20, $checked);
        self::assertSame([], $broken);
    }

    /** GitHub's heading anchors of a Markdown file. */
    private static function anchors(string $file): array
    {
        $text = preg_replace('/^```.*?^```/ms', '', (string) file_get_contents($file));
        preg_match_all('/^#+ (.+)$/m', $text, $m);
        return array_map(
            static fn (string $h): string => str_replace(' ', '-', (string) preg_replace('/[^\p{L}\p{N}_\- ]/u', '', mb_strtolower(trim($h)))),
            $m[1],
        );
    }
}
