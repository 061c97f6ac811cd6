"""The file layer of the reader: what a delivery file really is, and its sheets as Grids.

What each format gives (see each module):

| format | values | number formats | merged ranges | hidden sheets | hidden rows / columns |
|---|---|---|---|---|---|
| .xlsx / .xlsm (`ooxml`, our expat reader) | yes | yes | yes | yes | yes |
| .ods (`ods`, our expat reader) | yes | no | yes | yes | yes |
| .xls (BIFF: calamine values, `biff` pass) | yes | no | yes | yes | yes |
| .xlsb (calamine) | yes | no | yes | yes | no |
| XML Spreadsheet 2003 (`spreadsheetml`) | yes | yes | yes | yes | yes |
| HTML table saved as .xls (`html`) | text (Excel's x:num as numbers) | no | yes (colspan/rowspan) | no | rows with display:none |
| .csv (`text`) | text | no | no | no | no |
"""
