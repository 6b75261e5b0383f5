<?php

declare(strict_types=1);

namespace Monei\Concurrency\Fuzz;

/** Calls made from a strict_types file: no coercion of scalar arguments. */
function invoke_strict(string $kind, string $class, string $name, ?object $obj, array $args): mixed
{
    return match ($kind) {
        'function' => $name(...$args),
        'new' => new $class(...$args),
        'static' => $class::$name(...$args),
        'method' => $obj->$name(...$args),
    };
}
