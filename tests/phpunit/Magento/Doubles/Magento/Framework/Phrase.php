<?php

declare(strict_types=1);

namespace Magento\Framework;

/** Double of Magento's Phrase: the text with %1, %2 ... replaced by the arguments (no translation). */
class Phrase implements \JsonSerializable
{
    public function __construct(private $text, private array $arguments = [])
    {
    }

    public function render()
    {
        $text = (string) $this->text;
        $args = array_values($this->arguments);
        return preg_replace_callback('/%(\d+)/', static function (array $m) use ($args): string {
            $i = (int) $m[1] - 1;
            return array_key_exists($i, $args) ? (string) $args[$i] : $m[0];
        }, $text) ?? $text;
    }

    public function getText()
    {
        return $this->text;
    }

    public function getArguments()
    {
        return $this->arguments;
    }

    public function __toString()
    {
        return (string) $this->render();
    }

    public function jsonSerialize(): mixed
    {
        return $this->render();
    }
}
