T = {
"Exit codes: 0 success; 1 'verify' found a different file; 2 bad input (data, profile or options; nothing written); 3 the output folder cannot be written (nothing changed); 130 interrupted.":
 ("Códigos de salida: 0 éxito; 1 'verify' encontró un archivo distinto; 2 entrada incorrecta (datos, perfil u opciones; no se escribió nada); 3 no se puede escribir la carpeta de salida (no se cambió nada); 130 interrumpido.",
  "Codes de sortie : 0 succès ; 1 « verify » a trouvé un fichier différent ; 2 entrée incorrecte (données, profil ou options ; rien n’a été écrit) ; 3 le dossier de sortie ne peut pas être écrit (rien n’a changé) ; 130 interrompu."),
"language of messages, tables and figures (before or after the command)":
 ("idioma de los mensajes, cuadros y gráficos (antes o después del comando)",
  "langue des messages, tableaux et figures (avant ou après la commande)"),
"show the clrisk version and exit": ("muestra la versión de clrisk y termina", "affiche la version de clrisk et quitte"),
"commands": ("comandos", "commandes"),
"Interrupted: nothing was changed in the output folder.": ("Interrumpido: no se cambió nada en la carpeta de salida.", "Interrompu : rien n’a été modifié dans le dossier de sortie."),
"{path}: {reason}. Fix: check that it exists and that you may read (inputs) or write (--out) it":
 ("{path}: {reason}. Solución: compruebe que existe y que puede leerlo (entradas) o escribir en él (--out)",
  "{path} : {reason}. Correction : vérifiez qu’il existe et que vous pouvez le lire (entrées) ou y écrire (--out)"),
"row {rows}": ("fila {rows}", "ligne {rows}"),
"rows {rows}": ("filas {rows}", "lignes {rows}"),
"Fix: {fix}": ("Solución: {fix}", "Correction : {fix}"),
"(and {n} more)": ("(y {n} más)", "(et {n} de plus)"),
"column '{column}'": ("columna «{column}»", "colonne « {column} »"),
"Run Phase I for a country: model, territory probabilities, risk levels, factor weights and the vulnerability index; write CSV, GeoPackage, JSON and maps (PNG, SVG), and manifest.json. The output folder is replaced as a whole at the end: it holds the previous complete result or the new one, never a mix.":
 ("Ejecuta la fase I para un país: modelo, probabilidades territoriales, niveles de riesgo, pesos de los factores e índice de vulnerabilidad; escribe CSV, GeoPackage, JSON, mapas (PNG, SVG) y manifest.json. La carpeta de salida se reemplaza entera al final: contiene el resultado completo anterior o el nuevo, nunca una mezcla.",
  "Exécute la phase I pour un pays : modèle, probabilités territoriales, niveaux de risque, poids des facteurs et indice de vulnérabilité ; écrit CSV, GeoPackage, JSON, cartes (PNG, SVG) et manifest.json. Le dossier de sortie est remplacé en entier à la fin : il contient le résultat complet précédent ou le nouveau, jamais un mélange."),
"Exit codes: 0 success; 2 bad input (data, profile or options; nothing written); 3 the output folder cannot be written (nothing changed).":
 ("Códigos de salida: 0 éxito; 2 entrada incorrecta (datos, perfil u opciones; no se escribió nada); 3 no se puede escribir la carpeta de salida (no se cambió nada).",
  "Codes de sortie : 0 succès ; 2 entrée incorrecte (données, profil ou options ; rien n’a été écrit) ; 3 le dossier de sortie ne peut pas être écrit (rien n’a changé)."),
"output folder (new, empty, or an earlier clrisk results folder; never inside the data folder)":
 ("carpeta de salida (nueva, vacía o una carpeta de resultados anterior de clrisk; nunca dentro de la carpeta de datos)",
  "dossier de sortie (nouveau, vide ou un dossier de résultats clrisk antérieur ; jamais dans le dossier des données)"),
"meaning: codes agree between survey and census, plausible values, a design that gives a variance, an estimable model":
 ("significado: códigos iguales en encuesta y censo, valores plausibles, un diseño que permite calcular la varianza, un modelo estimable",
  "sens : mêmes codes dans l’enquête et le recensement, valeurs plausibles, un plan qui donne une variance, un modèle estimable"),
"in the folder": ("en la carpeta", "dans le dossier"),
"re-run": ("reejecución", "réexécution"),
"Every file is identical to the manifest: the results are reproduced.": ("Todos los archivos son idénticos al manifiesto: los resultados se reproducen.", "Tous les fichiers sont identiques au manifeste : les résultats sont reproduits."),
"re-run a results folder from its manifest and compare every file": ("vuelve a ejecutar una carpeta de resultados desde su manifiesto y compara cada archivo", "réexécute un dossier de résultats à partir de son manifeste et compare chaque fichier"),
"Check a folder written by 'clrisk run': re-hash the inputs its manifest.json names, re-hash its files, re-run with the recorded settings into a temporary folder and compare every output.":
 ("Verifica una carpeta escrita por 'clrisk run': recalcula la huella de las entradas que nombra su manifest.json y de sus archivos, vuelve a ejecutar con los parámetros registrados en una carpeta temporal y compara cada salida.",
  "Vérifie un dossier écrit par « clrisk run » : recalcule l’empreinte des entrées que nomme son manifest.json et de ses fichiers, réexécute avec les paramètres enregistrés dans un dossier temporaire et compare chaque sortie."),
"Exit codes: 0 every file identical; 1 a file differs (named above); 2 not a results folder.":
 ("Códigos de salida: 0 todos los archivos idénticos; 1 un archivo difiere (nombrado arriba); 2 no es una carpeta de resultados.",
  "Codes de sortie : 0 tous les fichiers identiques ; 1 un fichier diffère (nommé ci-dessus) ; 2 ce n’est pas un dossier de résultats."),
"results folder written by 'clrisk run'": ("carpeta de resultados escrita por 'clrisk run'", "dossier de résultats écrit par « clrisk run »"),
"only re-hash inputs and files, do not re-run": ("solo recalcula las huellas de entradas y archivos, sin volver a ejecutar", "recalcule seulement les empreintes des entrées et des fichiers, sans réexécuter"),
"different": ("distinto", "différent"),
"missing": ("falta", "absent"),
"extra": ("sobrante", "en trop"),
"Verifying {folder}": ("Verificando {folder}", "Vérification de {folder}"),
"{n} file(s) differ from the manifest: {files}": ("{n} archivo(s) difieren del manifiesto: {files}", "{n} fichier(s) diffèrent du manifeste : {files}"),
"set to true once a person has checked every TODO line (check and run refuse false)":
 ("ponga true cuando una persona haya revisado cada línea PENDIENTE (check y run rechazan false)",
  "mettez true quand une personne a vérifié chaque ligne À FAIRE (check et run refusent false)"),
"remove the extra territories from the map, or check the territory codes in the census against the map":
 ("quite del mapa los territorios sobrantes o compare los códigos territoriales del censo con los del mapa",
  "retirez de la carte les territoires en trop ou comparez les codes territoriaux du recensement à ceux de la carte"),
"check the weight variable and its units (a scaled or corrupted export?)":
 ("revise la variable de ponderación y sus unidades (¿una exportación escalada o dañada?)",
  "vérifiez la variable de pondération et ses unités (export mis à l’échelle ou corrompu ?)"),
"the PSU column holds a single value for every row, so no design-based variance can be computed":
 ("la columna de UPM tiene un único valor en todas las filas, así que no se puede calcular una varianza basada en el diseño",
  "la colonne des UPE a une seule valeur pour toutes les lignes : aucune variance fondée sur le plan ne peut être calculée"),
"design.psu must name the sampling clusters (primary sampling units), not a constant":
 ("design.psu debe nombrar los conglomerados de muestreo (unidades primarias de muestreo), no una constante",
  "design.psu doit nommer les grappes d’échantillonnage (unités primaires), pas une constante"),
"check design.stratum and design.psu (are they swapped, or is the PSU the household?)":
 ("revise design.stratum y design.psu (¿están intercambiados, o la UPM es el hogar?)",
  "vérifiez design.stratum et design.psu (sont-ils inversés, ou l’UPE est-elle le ménage ?)"),
"territory {ids}{more} has no children in the census, so its probability cannot be computed":
 ("el territorio {ids}{more} no tiene niños en el censo, así que no se puede calcular su probabilidad",
  "le territoire {ids}{more} n’a aucun enfant dans le recensement : sa probabilité ne peut pas être calculée"),
"{file}, line {line}: the profile still holds placeholders ({keys}); it is a starter profile, not the country's. Fix: replace every TODO value with the real one (country name, child labour definition, outcome expression), then set 'confirmed: true'":
 ("{file}, línea {line}: el perfil aún contiene marcadores ({keys}); es un perfil inicial, no el del país. Solución: reemplace cada valor PENDIENTE por el real (nombre del país, definición de trabajo infantil, expresión del resultado) y luego ponga 'confirmed: true'",
  "{file}, ligne {line} : le profil contient encore des marques provisoires ({keys}) ; c’est un profil de départ, pas celui du pays. Correction : remplacez chaque valeur À FAIRE par la vraie (nom du pays, définition du travail des enfants, expression du résultat), puis mettez « confirmed: true »"),
"{file}, line {line}: 'confirmed: false' — the guesses of 'clrisk init-profile' (design columns, outcome, covariate codes) have not been checked by a person. Fix: check every line marked TODO, then set 'confirmed: true'":
 ("{file}, línea {line}: 'confirmed: false' — nadie ha revisado las suposiciones de 'clrisk init-profile' (columnas del diseño, resultado, códigos de las covariables). Solución: revise cada línea marcada PENDIENTE y luego ponga 'confirmed: true'",
  "{file}, ligne {line} : « confirmed: false » — personne n’a vérifié les suppositions de « clrisk init-profile » (colonnes du plan, résultat, codes des covariables). Correction : vérifiez chaque ligne marquée À FAIRE, puis mettez « confirmed: true »"),
"{file}, line {line}: risk_levels.labels has {n} entries for k = {k} levels. Fix: give one label per level":
 ("{file}, línea {line}: risk_levels.labels tiene {n} entradas para k = {k} niveles. Solución: dé una etiqueta por nivel",
  "{file}, ligne {line} : risk_levels.labels a {n} entrées pour k = {k} niveaux. Correction : donnez une étiquette par niveau"),
"use the same codes in both files (recode one of them under mapping)":
 ("use los mismos códigos en ambos archivos (recodifique uno de ellos en mapping)",
  "utilisez les mêmes codes dans les deux fichiers (recodez l’un d’eux sous mapping)"),
"weights larger than {max:g} (found {v:g}); no expansion factor is that large and the weighted sums overflow":
 ("ponderaciones mayores que {max:g} (se encontró {v:g}); ningún factor de expansión es tan grande y las sumas ponderadas se desbordan",
  "pondérations supérieures à {max:g} ({v:g} trouvé) ; aucun facteur d’extrapolation n’est aussi grand et les sommes pondérées débordent"),
"{file}, line {line}: risk_levels.cutoffs {bad} are not probabilities between 0 and 1 (percentages?). Fix: write them as proportions, e.g. 0.1 for 10%":
 ("{file}, línea {line}: los puntos de corte risk_levels.cutoffs {bad} no son probabilidades entre 0 y 1 (¿porcentajes?). Solución: escríbalos como proporciones, p. ej. 0.1 para 10 %",
  "{file}, ligne {line} : les seuils risk_levels.cutoffs {bad} ne sont pas des probabilités entre 0 et 1 (des pourcentages ?). Correction : écrivez-les comme proportions, p. ex. 0.1 pour 10 %"),
"{file}, line {line}: risk_levels.cutoffs are only used with method: fixed (method is {method}). Fix: remove cutoffs or set method: fixed":
 ("{file}, línea {line}: risk_levels.cutoffs solo se usa con method: fixed (el método es {method}). Solución: quite cutoffs o ponga method: fixed",
  "{file}, ligne {line} : risk_levels.cutoffs ne sert qu’avec method: fixed (la méthode est {method}). Correction : retirez cutoffs ou mettez method: fixed"),
"{file}, line {line}: risk_levels: {problem}. Fix: change method or k in the profile":
 ("{file}, línea {line}: risk_levels: {problem}. Solución: cambie method o k en el perfil",
  "{file}, ligne {line} : risk_levels : {problem}. Correction : changez method ou k dans le profil"),
"recode them under mapping, or declare them in missing_codes":
 ("recodifíquelos en mapping o declárelos en missing_codes", "recodez-les sous mapping ou déclarez-les dans missing_codes"),
"check the export (units, a missing-value code, a shifted column)":
 ("revise la exportación (unidades, un código de valor faltante, una columna desplazada)",
  "vérifiez l’export (unités, un code de valeur manquante, une colonne décalée)"),
"the design column '{col}' named in the profile (design.{role}) is not in the file":
 ("la columna del diseño «{col}» indicada en el perfil (design.{role}) no está en el archivo",
  "la colonne du plan « {col} » nommée dans le profil (design.{role}) n’est pas dans le fichier"),
"correct design.{role} in the profile to the file's column name":
 ("corrija design.{role} en el perfil con el nombre de la columna del archivo",
  "corrigez design.{role} dans le profil avec le nom de la colonne du fichier"),
"every stratum has a single PSU ({n} strata, {m} PSUs), so the design gives no variance":
 ("cada estrato tiene una sola UPM ({n} estratos, {m} UPM), así que el diseño no da varianza",
  "chaque strate n’a qu’une UPE ({n} strates, {m} UPE) : le plan ne donne aucune variance"),
"{file}: the risk model cannot be estimated on these data ({problem}). Fix: run 'clrisk check' and correct the values it names":
 ("{file}: el modelo de riesgo no se puede estimar con estos datos ({problem}). Solución: ejecute 'clrisk check' y corrija los valores que indica",
  "{file} : le modèle de risque ne peut pas être estimé sur ces données ({problem}). Correction : lancez « clrisk check » et corrigez les valeurs qu’il signale"),
"'{c}' is coded {cv} in the census but {sv} in the survey":
 ("«{c}» está codificada {cv} en el censo pero {sv} en la encuesta", "« {c} » est codée {cv} dans le recensement mais {sv} dans l’enquête"),
"holds code(s) {codes} that the profile declares as missing (missing_codes)":
 ("contiene código(s) {codes} que el perfil declara como faltantes (missing_codes)",
  "contient le(s) code(s) {codes} que le profil déclare manquants (missing_codes)"),
"drop these rows with a mapping filter (e.g. '{c} != {v:g}') or recode them; the model never guesses a missing answer":
 ("elimine estas filas con un filtro en mapping (p. ej. '{c} != {v:g}') o recodifíquelas; el modelo nunca adivina una respuesta faltante",
  "écartez ces lignes avec un filtre sous mapping (p. ex. « {c} != {v:g} ») ou recodez-les ; le modèle ne devine jamais une réponse manquante"),
"values {vals} are outside the codes the profile allows ({domain})":
 ("los valores {vals} están fuera de los códigos que permite el perfil ({domain})",
  "les valeurs {vals} sont hors des codes autorisés par le profil ({domain})"),
"'{c}' is a yes/no covariate and must be coded 0/1 (found {vals})":
 ("«{c}» es una covariable sí/no y debe codificarse 0/1 (se encontró {vals})",
  "« {c} » est une covariable oui/non et doit être codée 0/1 ({vals} trouvé)"),
"recode it under mapping (e.g. 'recode: [{{column: {c}, from: {c}, map: {{1: 0, 2: 1}}}}]'); a 'don't know' code such as 9 must be dropped or declared in missing_codes":
 ("recodifíquela en mapping (p. ej. 'recode: [{{column: {c}, from: {c}, map: {{1: 0, 2: 1}}}}]'); un código «no sabe» como 9 debe eliminarse o declararse en missing_codes",
  "recodez-la sous mapping (p. ex. « recode: [{{column: {c}, from: {c}, map: {{1: 0, 2: 1}}}}] ») ; un code « ne sait pas » comme 9 doit être écarté ou déclaré dans missing_codes"),
"implausible values {vals} (expected between {lo:g} and {hi:g})":
 ("valores inverosímiles {vals} (se esperaba entre {lo:g} y {hi:g})", "valeurs invraisemblables {vals} (attendu entre {lo:g} et {hi:g})"),
"{folder}: no {manifest}, so this is not a folder written by 'clrisk run' (or it was written by an older version). Fix: give the folder that 'clrisk run --out' wrote":
 ("{folder}: no hay {manifest}, así que no es una carpeta escrita por 'clrisk run' (o la escribió una versión anterior). Solución: indique la carpeta que escribió 'clrisk run --out'",
  "{folder} : pas de {manifest}, ce n’est donc pas un dossier écrit par « clrisk run » (ou une version antérieure l’a écrit). Correction : indiquez le dossier écrit par « clrisk run --out »"),
"{file}: not a clrisk run manifest. Fix: give the folder that 'clrisk run --out' wrote":
 ("{file}: no es un manifiesto de 'clrisk run'. Solución: indique la carpeta que escribió 'clrisk run --out'",
  "{file} : ce n’est pas un manifeste de « clrisk run ». Correction : indiquez le dossier écrit par « clrisk run --out »"),
"{file}: not valid JSON ({problem}). Fix: restore the manifest written by 'clrisk run'":
 ("{file}: JSON no válido ({problem}). Solución: restaure el manifiesto escrito por 'clrisk run'",
  "{file} : JSON invalide ({problem}). Correction : restaurez le manifeste écrit par « clrisk run »"),
"{package}: recorded {old}, installed {new}": ("{package}: registrada {old}, instalada {new}", "{package} : enregistrée {old}, installée {new}"),
"the re-run failed: {problem}": ("la reejecución falló: {problem}", "la réexécution a échoué : {problem}"),
"cannot write to {path}: permission denied. Fix: choose a folder you can write to with --out, or change its permissions":
 ("no se puede escribir en {path}: permiso denegado. Solución: elija con --out una carpeta en la que pueda escribir, o cambie sus permisos",
  "impossible d’écrire dans {path} : permission refusée. Correction : choisissez avec --out un dossier où vous pouvez écrire, ou changez ses permissions"),
"cannot write to {path}: the file system is read-only. Fix: choose an output folder on a writable disk with --out":
 ("no se puede escribir en {path}: el sistema de archivos es de solo lectura. Solución: elija con --out una carpeta en un disco con escritura",
  "impossible d’écrire dans {path} : le système de fichiers est en lecture seule. Correction : choisissez avec --out un dossier sur un disque inscriptible"),
"cannot write to {path}: the disk is full (nothing was changed). Fix: free some space or choose another disk with --out":
 ("no se puede escribir en {path}: el disco está lleno (no se cambió nada). Solución: libere espacio o elija otro disco con --out",
  "impossible d’écrire dans {path} : le disque est plein (rien n’a changé). Correction : libérez de la place ou choisissez un autre disque avec --out"),
"cannot write to {path}: a file (not a folder) is in the way. Fix: give --out a folder name that is not an existing file":
 ("no se puede escribir en {path}: hay un archivo (no una carpeta) en el camino. Solución: dé a --out un nombre de carpeta que no sea un archivo existente",
  "impossible d’écrire dans {path} : un fichier (pas un dossier) est sur le chemin. Correction : donnez à --out un nom de dossier qui n’est pas un fichier existant"),
"--out {out}: the output folder overlaps the input {src}; clrisk never writes into its inputs. Fix: choose an output folder outside the data folder, e.g. {hint}":
 ("--out {out}: la carpeta de salida se superpone con la entrada {src}; clrisk nunca escribe en sus entradas. Solución: elija una carpeta de salida fuera de la carpeta de datos, p. ej. {hint}",
  "--out {out} : le dossier de sortie chevauche l’entrée {src} ; clrisk n’écrit jamais dans ses entrées. Correction : choisissez un dossier de sortie hors du dossier des données, p. ex. {hint}"),
"cannot write to {path}: the name is too long. Fix: choose a shorter --out":
 ("no se puede escribir en {path}: el nombre es demasiado largo. Solución: elija un --out más corto",
  "impossible d’écrire dans {path} : le nom est trop long. Correction : choisissez un --out plus court"),
"cannot write to {path}: {reason}. Fix: check the folder given with --out":
 ("no se puede escribir en {path}: {reason}. Solución: revise la carpeta indicada con --out",
  "impossible d’écrire dans {path} : {reason}. Correction : vérifiez le dossier indiqué avec --out"),
"--out {path} is an existing file, not a folder. Fix: give a folder name (it is created if missing)":
 ("--out {path} es un archivo existente, no una carpeta. Solución: indique un nombre de carpeta (se crea si no existe)",
  "--out {path} est un fichier existant, pas un dossier. Correction : donnez un nom de dossier (il est créé s’il n’existe pas)"),
"--out {path} is a non-empty folder that is not a clrisk results folder (it has no {manifest}); clrisk replaces the whole folder, so it will not use it. Fix: choose a new or empty folder, or remove this one yourself":
 ("--out {path} es una carpeta no vacía que no es una carpeta de resultados de clrisk (no tiene {manifest}); clrisk reemplaza la carpeta entera, así que no la usará. Solución: elija una carpeta nueva o vacía, o bórrela usted",
  "--out {path} est un dossier non vide qui n’est pas un dossier de résultats clrisk (il n’a pas de {manifest}) ; clrisk remplace le dossier entier, il ne l’utilisera donc pas. Correction : choisissez un dossier nouveau ou vide, ou supprimez celui-ci vous-même"),
"--out {path}: another clrisk run is writing into this folder right now. Fix: wait for it to finish, or choose another --out":
 ("--out {path}: otra ejecución de clrisk está escribiendo en esta carpeta ahora mismo. Solución: espere a que termine o elija otro --out",
  "--out {path} : une autre exécution de clrisk écrit dans ce dossier en ce moment. Correction : attendez qu’elle se termine ou choisissez un autre --out"),
# argparse's own texts (Python 3.11)
"usage: ": ("uso: ", "utilisation : "),
"positional arguments": ("argumentos posicionales", "arguments positionnels"),
"options": ("opciones", "options"),
"show this help message and exit": ("muestra este mensaje de ayuda y termina", "affiche ce message d’aide et quitte"),
"argument %(argument_name)s: %(message)s": ("argumento %(argument_name)s: %(message)s", "argument %(argument_name)s : %(message)s"),
"%(prog)s: error: %(message)s\n": ("%(prog)s: error: %(message)s\n", "%(prog)s : erreur : %(message)s\n"),
"the following arguments are required: %s": ("faltan los siguientes argumentos obligatorios: %s", "les arguments suivants sont obligatoires : %s"),
"unrecognized arguments: %s": ("argumentos no reconocidos: %s", "arguments non reconnus : %s"),
"invalid choice: %(value)r (choose from %(choices)s)": ("opción no válida: %(value)r (elija entre %(choices)s)", "choix invalide : %(value)r (choisissez parmi %(choices)s)"),
"expected one argument": ("se esperaba un argumento", "un argument attendu"),
"expected at most one argument": ("se esperaba como máximo un argumento", "au plus un argument attendu"),
"expected at least one argument": ("se esperaba al menos un argumento", "au moins un argument attendu"),
"expected %s argument": ("se esperaba %s argumento", "%s argument attendu"),
"expected %s arguments": ("se esperaban %s argumentos", "%s arguments attendus"),
"invalid %(type)s value: %(value)r": ("valor %(type)s no válido: %(value)r", "valeur %(type)s invalide : %(value)r"),
"not allowed with argument %s": ("no se permite junto con el argumento %s", "non autorisé avec l’argument %s"),
"one of the arguments %s is required": ("se requiere uno de los argumentos %s", "l’un des arguments %s est obligatoire"),
"ambiguous option: %(option)s could match %(matches)s": ("opción ambigua: %(option)s podría ser %(matches)s", "option ambiguë : %(option)s peut correspondre à %(matches)s"),
"unknown parser %(parser_name)r (choices: %(choices)s)": ("comando desconocido %(parser_name)r (opciones: %(choices)s)", "commande inconnue %(parser_name)r (choix : %(choices)s)"),
"ignored explicit argument %r": ("argumento explícito ignorado %r", "argument explicite ignoré %r"),
"show program's version number and exit": ("muestra la versión del programa y termina", "affiche la version du programme et quitte"),
}
T.update({
"line {line}": ("línea {line}", "ligne {line}"),
"{where} is {value!r}: cut-offs are probabilities between 0 and 1 (percentages?)":
 ("{where} es {value!r}: los puntos de corte son probabilidades entre 0 y 1 (¿porcentajes?)",
  "{where} vaut {value!r} : les seuils sont des probabilités entre 0 et 1 (des pourcentages ?)"),
"write them as proportions, e.g. 0.1 for 10%": ("escríbalos como proporciones, p. ej. 0.1 para 10 %", "écrivez-les comme proportions, p. ex. 0.1 pour 10 %"),
"{src}, column '{y}': the outcome is always {v} in the survey, so a logit cannot be estimated. Fix: check the outcome definition and the age filter":
 ("{src}, columna «{y}»: el resultado vale siempre {v} en la encuesta, así que no se puede estimar un logit. Solución: revise la definición del resultado y el filtro de edad",
  "{src}, colonne « {y} » : le résultat vaut toujours {v} dans l’enquête, un logit ne peut donc pas être estimé. Correction : vérifiez la définition du résultat et le filtre d’âge"),
"{src}: covariate(s) {c} take a single value in the survey (no variance), so their effect cannot be estimated. Fix: drop them from the covariate list":
 ("{src}: la(s) covariable(s) {c} toma(n) un único valor en la encuesta (sin varianza), así que su efecto no se puede estimar. Solución: quítela(s) de la lista de covariables",
  "{src} : la ou les covariables {c} ne prennent qu’une valeur dans l’enquête (aucune variance), leur effet ne peut donc pas être estimé. Correction : retirez-les de la liste des covariables"),
"{src}: covariates {c} are collinear (one is an exact linear combination of the others), so their effects are not identified. Fix: drop one of them":
 ("{src}: las covariables {c} son colineales (una es combinación lineal exacta de las otras), así que sus efectos no están identificados. Solución: quite una de ellas",
  "{src} : les covariables {c} sont colinéaires (l’une est une combinaison linéaire exacte des autres), leurs effets ne sont donc pas identifiés. Correction : retirez-en une"),
"{src}: perfect or quasi-complete separation by covariate '{c}': every child with {c} = {v} has {y} = {o}, so its coefficient diverges to infinity. Fix: drop or regroup '{c}', or check how {y} was coded for that group":
 ("{src}: separación perfecta o casi completa por la covariable «{c}»: todo niño con {c} = {v} tiene {y} = {o}, así que su coeficiente diverge a infinito. Solución: quite o reagrupe «{c}», o revise cómo se codificó {y} en ese grupo",
  "{src} : séparation parfaite ou quasi complète par la covariable « {c} » : tout enfant avec {c} = {v} a {y} = {o}, son coefficient diverge donc vers l’infini. Correction : retirez ou regroupez « {c} », ou vérifiez comment {y} a été codé pour ce groupe"),
"{src}: the logit did not converge (fitted probabilities of 0 or 1): perfect or quasi-complete separation, most likely by {c}. Fix: drop or regroup these covariate(s), or check how the outcome was coded":
 ("{src}: el logit no convergió (probabilidades ajustadas de 0 o 1): separación perfecta o casi completa, probablemente por {c}. Solución: quite o reagrupe esta(s) covariable(s), o revise cómo se codificó el resultado",
  "{src} : le logit n’a pas convergé (probabilités ajustées de 0 ou 1) : séparation parfaite ou quasi complète, probablement par {c}. Correction : retirez ou regroupez ces covariables, ou vérifiez comment le résultat a été codé"),
})
# p1_10_reproduce chapter labels
T.update({
"clrisk version": ("Versión de clrisk", "Version de clrisk"),
"Seed": ("Semilla", "Graine"),
"Coefficient draws": ("Extracciones de coeficientes", "Tirages des coefficients"),
"Risk levels": ("Niveles de riesgo", "Niveaux de risque"),
"Setting": ("Parámetro", "Paramètre"),
})
T.update({
"--out names one of the input files": ("--out nombra uno de los archivos de entrada", "--out désigne l’un des fichiers d’entrée"),
"write the profile to a new file, e.g. profile.yaml": ("escriba el perfil en un archivo nuevo, p. ej. profile.yaml", "écrivez le profil dans un nouveau fichier, p. ex. profile.yaml"),
"--force would overwrite a file that is not a profile": ("--force sobrescribiría un archivo que no es un perfil", "--force écraserait un fichier qui n’est pas un profil"),
"write the profile to a .yaml file": ("escriba el perfil en un archivo .yaml", "écrivez le profil dans un fichier .yaml"),
})
T.update({
"invalid YAML near column {col}": ("YAML no válido cerca de la columna {col}", "YAML invalide près de la colonne {col}"),
})
T.update({"Warning": ("Advertencia", "Avertissement")})
T.update({
"{file}, line {line}: ivti.dimension_weights are all 0, so the index would be empty. Fix: give at least one dimension a positive weight, or write 'dimension_weights: equal'":
 ("{file}, línea {line}: todos los ivti.dimension_weights valen 0, así que el índice quedaría vacío. Solución: dé un peso positivo a al menos una dimensión, o escriba 'dimension_weights: equal'",
  "{file}, ligne {line} : tous les ivti.dimension_weights valent 0, l’indice serait donc vide. Correction : donnez un poids positif à au moins une dimension, ou écrivez « dimension_weights: equal »"),
})
T.update({"where the input files are now (if they were moved since the run)": ("dónde están ahora los archivos de entrada (si se movieron después de la ejecución)", "où se trouvent maintenant les fichiers d’entrée (s’ils ont été déplacés depuis l’exécution)")})
T.update({"meaning: settings the code accepts (levels, IVTI weights)": ("significado: parámetros que el código acepta (niveles, pesos del IVTI)", "sens : paramètres acceptés par le code (niveaux, poids de l’IVTI)")})
T.update({
"'{v}' is not a whole number": ("'{v}' no es un número entero", "« {v} » n’est pas un nombre entier"),
"{v} is less than {m}": ("{v} es menor que {m}", "{v} est inférieur à {m}"),
})
T.update({
"--out is a folder": ("--out es una carpeta", "--out est un dossier"),
"give the profile's file name, e.g. {f}": ("indique el nombre de archivo del perfil, p. ej. {f}", "donnez le nom de fichier du profil, p. ex. {f}"),
})
